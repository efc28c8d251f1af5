"""`ftspec monitor`: production logs against the training data, the gates and the retraining decision.

Stages return results (a report dict); ftspec.ui.monitor presents them. The pass over the logs is streaming: each
window keeps counts, histograms and bounded reservoir samples, never the rows (see engine.py).
"""
