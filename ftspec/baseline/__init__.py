"""`ftspec baseline`: measure what prompting reaches on the eval set before any training (the ladder: zero-shot,
few-shot, retrieved few-shot, RAG), keep the measurements under baselines/<id>/, and give the decision its evidence.
"""
