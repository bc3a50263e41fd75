"""Start the web app:  python app.py  (or the console script `mnist-app`). Its settings: mnist_app/web/server.py."""

from mnist_app.web.server import main

if __name__ == "__main__":
    main()
