"""Pure numpy/sympy core: objectives, optimizers, engine, I/O. Never imports Qt."""
