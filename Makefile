# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make demo   venv, install, train (10 epochs), eval, predict three examples
#   make test   venv, install with test extras, run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'

demo: install
	$(BIN)/rnn-mnist train
	$(BIN)/rnn-mnist eval
	$(BIN)/rnn-mnist predict examples/digit-7.png examples/drawn-3.png examples/hand-4.jpg

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis *.egg-info
