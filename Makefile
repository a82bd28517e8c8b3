.PHONY: setup demo test bench wheel image

setup:
	scripts/setup.sh

demo: setup
	scripts/demo.sh

test:
	scripts/setup.sh --test
	scripts/ensure-postgres.sh
	.venv/bin/pytest -q -p no:cacheprovider

bench: setup
	.venv/bin/python bench/run_all.py

# The wheel the image installs (code and package data), into dist/.
wheel: setup
	.venv/bin/pip wheel --no-deps --wheel-dir dist .

# The container image (needs a Docker daemon); docker-compose.yml builds the same with `docker compose build`.
image:
	docker build --tag housing-intake:latest .
