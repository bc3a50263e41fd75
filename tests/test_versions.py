import json
from pathlib import Path

import pytest

from mnist_app.storage import weights
from mnist_app.storage.versions import SHIPPED, ModelVersions, default_root
from mnist_app.storage.weights import PACKAGE_WEIGHTS, WeightsError, load_weights
from mnist_app.training.models import build_model


def add_fast(versions: ModelVersions, test_accuracy: float = 0.5):
    meta = {"architecture": "fast", "val_accuracy": 0.4, "test_accuracy": test_accuracy}
    return versions.add(build_model("fast"), meta)


def test_new_version_is_listed_with_its_metrics_but_not_served(versions):
    first = add_fast(versions, 0.91)
    second = add_fast(versions, 0.92)
    listed = versions.list()
    assert [v.id for v in listed] == [second.id, first.id, SHIPPED]
    assert listed[0].test_accuracy == pytest.approx(0.92) and listed[0].val_accuracy == pytest.approx(0.4)
    assert listed[0].architecture == "fast" and listed[0].parameters > 0 and listed[0].created
    assert [v.served for v in listed] == [False, False, True]
    assert versions.served_path() == versions.shipped and versions.warning is None


def test_deploy_then_roll_back_to_the_previous_one_then_to_the_shipped_model(versions):
    first, second = add_fast(versions), add_fast(versions)
    versions.deploy(first.id)
    assert versions.deploy(second.id).served
    assert versions.served_path() == second.path and versions.served().id == second.id
    assert versions.rollback().id == first.id
    assert versions.served_path() == first.path
    assert [v.id for v in versions.list() if v.served] == [first.id]
    assert versions.rollback().id == SHIPPED
    assert versions.served_path() == versions.shipped
    with pytest.raises(ValueError, match="Nothing to roll back"):
        versions.rollback()


def test_a_new_instance_serves_what_was_deployed(versions):
    version = add_fast(versions)
    versions.deploy(version.id)
    assert ModelVersions(versions.root, shipped=versions.shipped).served_path() == version.path


def test_truncated_served_weights_fall_back_to_the_last_good_version_and_say_so(versions):
    good, broken = add_fast(versions), add_fast(versions)
    versions.deploy(good.id)
    versions.deploy(broken.id)
    broken.path.write_bytes(broken.path.read_bytes()[:100])
    assert versions.served_path() == good.path
    assert broken.id in versions.warning and good.id in versions.warning
    load_weights(versions.served_path())


def test_metadata_that_does_not_fit_the_weights_falls_back_to_the_shipped_model(versions):
    version = add_fast(versions)
    versions.deploy(version.id)
    meta_file = version.path.with_suffix(".json")
    meta_file.write_text(json.dumps({**json.loads(meta_file.read_text()), "architecture": "lenet5"}))
    assert versions.served_path() == versions.shipped
    assert "does not fit" in versions.warning and "shipped" in versions.warning


def test_unreadable_served_json_serves_the_shipped_model_and_says_so(versions):
    versions.deploy(add_fast(versions).id)
    (versions.root / "served.json").write_text("{not json")
    assert versions.served_path() == versions.shipped
    assert "served.json" in versions.warning


def test_versions_without_readable_metadata_are_skipped_and_reported(versions):
    good = add_fast(versions)
    interrupted = add_fast(versions)
    interrupted.path.with_suffix(".json").unlink()
    garbled = add_fast(versions)
    garbled.path.with_suffix(".json").write_bytes(b"\xff\x00")
    (versions.root / f".{good.id}.safetensors.x1y2.tmp").write_bytes(b"half a file")
    assert [v.id for v in versions.list()] == [good.id, SHIPPED]
    assert len(versions.problems) == 2
    assert any(interrupted.id in p and "missing" in p for p in versions.problems)
    assert any(garbled.id in p and "not valid JSON" in p for p in versions.problems)


def test_a_failure_while_saving_leaves_nothing_behind_and_the_served_model_intact(versions, monkeypatch):
    served = add_fast(versions)
    versions.deploy(served.id)
    served_bytes = served.path.read_bytes()
    real_write = weights.atomic_write_bytes

    def disk_full_at_json(path, data):
        if Path(path).suffix == ".json":
            raise OSError(28, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(weights, "atomic_write_bytes", disk_full_at_json)
    with pytest.raises(OSError, match="No space left"):
        add_fast(versions)
    monkeypatch.undo()
    assert [v.id for v in versions.list()] == [served.id, SHIPPED] and versions.problems == []
    left = sorted(p.name for p in versions.root.iterdir())
    assert left == sorted(["served.json", served.path.name, f"{served.id}.json"])
    assert versions.served_path() == served.path and served.path.read_bytes() == served_bytes


def test_deploying_a_broken_version_changes_nothing(versions):
    good, broken = add_fast(versions), add_fast(versions)
    versions.deploy(good.id)
    broken.path.write_bytes(b"garbage")
    with pytest.raises(WeightsError):
        versions.deploy(broken.id)
    assert versions.served().id == good.id


def test_delete_removes_a_version_but_never_the_served_or_shipped_one(versions):
    served, other = add_fast(versions), add_fast(versions)
    versions.deploy(served.id)
    with pytest.raises(ValueError, match="being served"):
        versions.delete(served.id)
    with pytest.raises(ValueError, match="shipped model cannot be deleted"):
        versions.delete(SHIPPED)
    versions.delete(other.id)
    assert not other.path.exists() and [v.id for v in versions.list()] == [served.id, SHIPPED]
    with pytest.raises(ValueError, match="no version"):
        versions.delete(other.id)


@pytest.mark.parametrize("bad_id", ["../served", "/etc/passwd", "", ".hidden", "a/b", None, 3])
def test_ids_that_could_reach_outside_the_folder_are_refused(versions, bad_id):
    for action in (versions.deploy, versions.delete):
        with pytest.raises(ValueError):
            action(bad_id)


def test_default_folder_follows_mnist_app_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_APP_HOME", str(tmp_path))
    assert default_root() == tmp_path / "models"
    versions = ModelVersions()
    assert versions.root == tmp_path / "models" and versions.shipped == PACKAGE_WEIGHTS
