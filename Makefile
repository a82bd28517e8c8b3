.PHONY: setup demo test bench

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
