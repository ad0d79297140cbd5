"""EL6xx: FFT normalization and FFT convolution size (the Hyena long convolution of M2-BERT).

One module per rule, named for what it catches; ``_common`` holds what several of them share.
"""
