"""MicroGPT: the reference GPT trained from scratch, on scalar autograd or vectorised NumPy.

One model, two backends behind one interface (`scalar_model.ScalarGPT`, `numpy_model.NumpyGPT`),
a trainer that yields one event per step, checkpoints, and sampling. See `trainer.Trainer`.
"""
