"""The models' maths as pure, vectorised, log-space functions, shared by every estimator."""
