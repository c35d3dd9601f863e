"""Real, discrete RNNs: the model and its losses (``.model``), training (``.train``), and the
bridge from a trained RNN back to the reduced gradient flow (``.bridge``)."""
