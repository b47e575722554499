"""The editor's generation on the sidecar's device (the GPU backend of generate/start): the
student, base plus LoRA adapter unmerged, decoding token by token with its key/value cache and
streaming the text (session.py), behind the generate/* methods (rpc.py)."""
