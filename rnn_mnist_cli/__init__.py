"""rnn-mnist: a recurrent network that reads a handwritten digit one pixel row at a time."""

__version__ = "0.1.0"
