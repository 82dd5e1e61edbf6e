"""Texts the product composes: what kinds there are (and the consent each needs), and the one
set of checks every composed text passes before it may go."""
