from .support import pki  # noqa: F401  (session fixture: test CA and signer)
