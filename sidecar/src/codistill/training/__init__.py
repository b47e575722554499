"""Training: LoRA distillation with token and structural loss (issue 5); imports no torch."""
