// Placeholder: the multi-process Profix refresh worker is written in a later step.
print("profix-worker: not implemented yet")
