"""mnist-app: read handwritten digits from drawings and photos with a small CNN."""
