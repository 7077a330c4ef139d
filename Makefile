# mmssl_ext: two commands do all of the set-up on a fresh machine.
#   make demo   build .venv and the demo data, run a short CIM pre-training + pictures
#   make test   build .venv and run the test suite
#   make fashion-mnist   install Debian's dataset-fashion-mnist (apt) and write the
#                        ImageNet-style folder data/fashion_mnist (FMNIST_ARGS: subsets)
#   make small-scale     the small-scale benchmark on it (tools/benchmarks/small_scale.py:
#                        every method pre-trained, k-NN + linear probe, JSON + plot;
#                        SMALL_SCALE_ARGS, e.g. "--methods PQCL MoCo-v3 --resume")
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
ENV_STAMP := $(VENV)/.mmssl_ext_env
DEMO_DATA := data/demo
DEMO_WORK_DIR := work_dirs/demo
PYTEST_ARGS ?=
FMNIST_SOURCE ?= /usr/share/datasets/fashion-mnist
FMNIST_DATA ?= data/fashion_mnist
FMNIST_ARGS ?=
SMALL_SCALE_DIR ?= work_dirs/small_scale
SMALL_SCALE_ARGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: env data demo test clean fashion-mnist small-scale

env: $(ENV_STAMP)

$(ENV_STAMP): tools/misc/setup_env.sh setup.py requirements/torch.txt \
		requirements/build.txt requirements/runtime.txt requirements/tests.txt \
		requirements/mim.txt
	VENV=$(VENV) PYTHON=$(PYTHON) bash tools/misc/setup_env.sh
	touch $@

data: env
	$(PY) tools/dataset_converters/make_demo_data.py --out $(DEMO_DATA)

$(FMNIST_SOURCE)/train-images-idx3-ubyte.gz:
	@command -v apt-get >/dev/null 2>&1 || { echo "error: apt-get is not available:" \
		"put the four Fashion-MNIST IDX files in a folder and run" \
		"make fashion-mnist FMNIST_SOURCE=that/folder" >&2; exit 1; }
	$(SUDO) apt-get update && $(SUDO) apt-get install -y dataset-fashion-mnist

fashion-mnist: env $(FMNIST_SOURCE)/train-images-idx3-ubyte.gz
	$(PY) tools/dataset_converters/fashion_mnist.py --source $(FMNIST_SOURCE) \
		--out $(FMNIST_DATA) $(FMNIST_ARGS)

small-scale: fashion-mnist
	$(PY) tools/benchmarks/small_scale.py --data-root $(FMNIST_DATA) \
		--work-dir $(SMALL_SCALE_DIR) $(SMALL_SCALE_ARGS)

demo: data
	bash tools/misc/demo.sh $(PY) $(DEMO_DATA) $(DEMO_WORK_DIR)

test: env
	$(PY) -m pytest tests $(PYTEST_ARGS)

clean:
	rm -rf $(DEMO_DATA) $(DEMO_WORK_DIR)
