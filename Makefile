# mmssl_ext: two commands do all of the set-up on a fresh machine.
#   make demo   build .venv and the demo data, run a short CIM pre-training + picture
#   make test   build .venv and run the test suite
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
ENV_STAMP := $(VENV)/.mmssl_ext_env
DEMO_DATA := data/demo
DEMO_WORK_DIR := work_dirs/demo
PYTEST_ARGS ?=

.PHONY: env data demo test clean

env: $(ENV_STAMP)

$(ENV_STAMP): tools/misc/setup_env.sh setup.py requirements/torch.txt \
		requirements/build.txt requirements/runtime.txt requirements/tests.txt \
		requirements/mim.txt
	VENV=$(VENV) PYTHON=$(PYTHON) bash tools/misc/setup_env.sh
	touch $@

data: env
	$(PY) tools/dataset_converters/make_demo_data.py --out $(DEMO_DATA)

demo: data
	bash tools/misc/demo.sh $(PY) $(DEMO_DATA) $(DEMO_WORK_DIR)

test: env
	$(PY) -m pytest tests $(PYTEST_ARGS)

clean:
	rm -rf $(DEMO_DATA) $(DEMO_WORK_DIR)
