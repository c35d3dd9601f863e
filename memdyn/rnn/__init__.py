"""Real, discrete RNNs: the model and its losses (:mod:`.model`), training (:mod:`.train`), and the
bridge from a trained RNN back to the reduced gradient flow (:mod:`.bridge`)."""
