"""The symbols of the binary focal loss's worked solution: text as a student writes it, and LaTeX.

Apart from ``dlvcli.core.focal`` so that computing a result (``--json``) does not build
expression trees; ``FocalRow.lines`` imports them.
"""

from dlvcli.core.expr import Pow, Sym

P = Sym("p")
P_T = Sym("p_t")
Z = Sym("z")
SIGMA_Z = Sym("σ(z)", r"\sigma(z)")
ALPHA = Sym("α", r"\alpha")
ALPHA_T = Sym("α_t", r"\alpha_t")
GAMMA = Sym("γ", r"\gamma")
CE = Sym("CE", r"\mathrm{CE}")
FL = Sym("FL", r"\mathrm{FL}")
MODULATING = Pow(1 - P_T, GAMMA)
DFL_DZ = Sym("∂FL/∂z", r"\frac{\partial \mathrm{FL}}{\partial z}")
