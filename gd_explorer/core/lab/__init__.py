"""The curvature lab's headless pieces (no Qt): learning-rate sweeps, the LR range test."""
