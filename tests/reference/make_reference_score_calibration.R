# make_reference_score_calibration.R -- riskRegression::plotCalibration's default
# smoothed curve (issue 14).
#
# plotCalibration(x) defaults to method = "nne", cens.method = "local",
# round = TRUE, bandwidth = NULL: the predicted risks are rounded to 2 decimals,
# and at each distinct rounded value the observed risk is the Aalen-Johansen
# (Kaplan-Meier) estimate at the horizon among its nearest neighbours,
# prodlim(Hist(time, event) ~ p) with prodlim::neighborhood's symmetric
# neighbourhoods in the ranks of p, whose half-width (as a fraction of n) is
# KernSmooth::dpik(cumtabx / n, kernel = "box"). This script stores Pred, Obs
# and the bandwidth for three cases.
#
# Inputs are the committed data files of make_reference_score.R (risks computed
# in R); this script writes only results/score_calibration.json.
#
# Run from the repository root:  Rscript tests/reference/make_reference_score_calibration.R
source(file.path("tests", "reference", "reference_helpers.R"))
META$script <- "tests/reference/make_reference_score_calibration.R"
META$KernSmooth <- as.character(packageVersion("KernSmooth"))
META$data.table <- as.character(packageVersion("data.table"))

read_data <- function(name) read.csv(file.path(DATA, paste0(name, ".csv")))
pdf(NULL)  # plotCalibration(plot = FALSE) still opens a device: no Rplots.pdf

nne_case <- function(df, risk_col, time, cause, cr, description) {
  x <- score_calibration(df, risk_col, time, cause, cr)
  pc <- plotCalibration(x, plot = FALSE, cens.method = "local")  # method = "nne" (default)
  pf <- pc$plotFrames$model
  bw <- prodlim::neighborhood(round(df[[risk_col]], 2))$bandwidth
  stopifnot(abs(pc$bandwidth - bw) < 1e-15)
  list(description = description, time = time, cause = cause, risk = risk_col,
       competing_risks = cr, bandwidth = pc$bandwidth,
       predicted = V(pf$Pred), observed = V(pf$Obs),
       call = "plotCalibration(Score(..., plots = 'calibration'), cens.method = 'local') (method = 'nne', round = TRUE, bandwidth = NULL)")
}

mg <- read_data("score_mgus2")
rot <- read_data("score_rotterdam")
cases <- list(
  mgus2_cause1 = nne_case(mg, "risk1_2", 120, 1, TRUE, "mgus2, progression, CSC risk at 120 months"),
  mgus2_cause2 = nne_case(mg, "risk2_1", 60, 2, TRUE, "mgus2, death, CSC risk at 60 months"),
  rotterdam = nne_case(rot, "risk2", 5, 1, FALSE, "rotterdam, recurrence, Cox risk at 5 years")
)
write_results(cases, "score_calibration",
              "riskRegression::plotCalibration default (nne, local) calibration curves")
