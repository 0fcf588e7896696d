# make_reference_score.R -- prediction-performance metrics (issue 14).
#
# riskRegression::Score (time-dependent AUC, Brier score, IPA; single event and
# competing risks; cens.model = "km"), survival::concordance (Harrell's C and
# its infinitesimal-jackknife variance) and pec::cindex. The predicted risks
# are computed here once and written into the data CSVs, so the Python tests
# compare metrics on identical inputs and never refit a model.
#
# timeROC is not packaged for Debian (no r-cran-timeroc), so it is not used:
# Score's AUC is the same estimator (Blanche et al. 2013, definition 2 for
# competing risks) and it is what the tests compare against.
#
# Run from the repository root:  Rscript tests/reference/make_reference_score.R
source(file.path("tests", "reference", "reference_helpers.R"))
suppressPackageStartupMessages(library(pec))
META$script <- "tests/reference/make_reference_score.R"
META$pec <- as.character(packageVersion("pec"))
META$data.table <- as.character(packageVersion("data.table"))

risk_cols <- function(prefix, k) paste0(prefix, seq_len(k))

score_case <- function(df, risk, times, cause, cr, description) {
  form <- if (cr) Hist(time, event) ~ 1 else Hist(time, status) ~ 1
  score_auc_brier_case(df, risk, times, cause, cr, form, "km", description)
}

cases <- list()

# ---- single event: rotterdam, recurrence-free, Cox predictions --------------
rot <- survival::rotterdam
rot <- data.frame(time = rot$rtime / 365.25, status = rot$recur, age = rot$age,
                  nodes = rot$nodes, grade = rot$grade,
                  size2 = as.integer(rot$size == "20-50"),
                  size3 = as.integer(rot$size == ">50"))
fit <- coxph(Surv(time, status) ~ age + nodes + grade + size2 + size3, data = rot,
             x = TRUE, control = CTRL)
times_rot <- c(2, 5, 8)
rot_risk <- predictRisk(fit, newdata = rot, times = times_rot)
rot$lp <- as.numeric(predict(fit, type = "lp"))
for (j in seq_along(times_rot)) rot[[paste0("risk", j)]] <- rot_risk[, j]
rot <- write_data(rot, "score_rotterdam")
risk <- as.matrix(rot[, risk_cols("risk", length(times_rot))])
cases$rotterdam <- score_case(rot, risk, times_rot, 1, FALSE,
                              "rotterdam recurrence (years), Cox risk at 2, 5, 8")
conc <- concordance(Surv(time, status) ~ lp, data = rot, reverse = TRUE)
cases$rotterdam$harrell_c <- conc$concordance
cases$rotterdam$harrell_c_se <- sqrt(conc$var)
cases$rotterdam$harrell_call <- "concordance(Surv(time, status) ~ lp, reverse = TRUE)"

# ---- single event with tied scores and tied times: lung, ph.ecog as score ----
lung <- survival::lung
lung <- lung[!is.na(lung$ph.ecog), ]
lung <- data.frame(time = lung$time, status = lung$status - 1,
                   score = lung$ph.ecog / 4, age = lung$age)  # ECOG 0-3 as a risk in [0, 0.75]
lung <- write_data(lung, "score_lung")
times_lung <- c(180, 365, 540)
risk <- matrix(lung$score, nrow(lung), length(times_lung))
cases$lung_ties <- score_case(lung, risk, times_lung, 1, FALSE,
                              "lung, ph.ecog / 4 (tied score) as risk at 180, 365, 540 days")
conc <- concordance(Surv(time, status) ~ score, data = lung, reverse = TRUE)
cases$lung_ties$harrell_c <- conc$concordance
cases$lung_ties$harrell_c_se <- sqrt(conc$var)
conc <- concordance(Surv(time, status) ~ age, data = lung, reverse = TRUE)
cases$lung_ties$harrell_c_age <- conc$concordance
cases$lung_ties$harrell_c_age_se <- sqrt(conc$var)

# ---- competing risks: mgus2, progression (1) vs death (2), CSC predictions ---
mg <- survival::mgus2
mg <- mg[complete.cases(mg[, c("age", "sex", "hgb", "creat", "mspike")]), ]
mg <- data.frame(time = ifelse(mg$pstat == 1, mg$ptime, mg$futime),
                 event = ifelse(mg$pstat == 1, 1, 2 * mg$death),
                 age = mg$age, male = as.integer(mg$sex == "M"), hgb = mg$hgb,
                 creat = mg$creat, mspike = mg$mspike)
csc <- CSC(Hist(time, event) ~ age + male + hgb + creat + mspike, data = mg,
           control = CTRL)
times_mg <- c(60, 120, 240)
for (k in 1:2) {
  r <- predictRisk(csc, newdata = mg, times = times_mg, cause = k)
  for (j in seq_along(times_mg)) mg[[paste0("risk", k, "_", j)]] <- r[, j]
}
mg$status <- as.integer(mg$event != 0)
mg <- write_data(mg, "score_mgus2")
# riskRegression 2022.11.28 passes status * event to its AUC influence function,
# whose C++ code takes code 1 as the case: for cause = 2 the AUC is right but its
# standard error is that of cause 1's cases. So cause 2 is scored with the codes
# swapped (death coded 1) -- the same estimand, and a correct standard error.
mg_swap <- mg
mg_swap$event <- ifelse(mg$event == 0, 0, 3 - mg$event)
for (k in 1:2) {
  risk <- as.matrix(mg[, paste0("risk", k, "_", seq_along(times_mg))])
  cases[[paste0("mgus2_cause", k)]] <- score_case(
    if (k == 1) mg else mg_swap, risk, times_mg, 1, TRUE,
    sprintf("mgus2 competing risks, cause %d, CSC absolute risk at 60, 120, 240 months%s", k,
            if (k == 2) " (scored as cause 1 with the codes 1 and 2 swapped)" else ""))
  cases[[paste0("mgus2_cause", k)]]$cause <- k
}

# ---- Wolbers' competing-risks concordance at a horizon: pec::cindex ---------
for (k in 1:2) {
  risk <- as.matrix(mg[, paste0("risk", k, "_", seq_along(times_mg))])
  ci <- pec::cindex(list(model = risk), formula = Hist(time, event) ~ 1,
                    data = mg, eval.times = times_mg, cause = k,
                    cens.model = "marginal", splitMethod = "none")
  cases[[paste0("mgus2_cause", k)]]$wolbers_c <- V(ci$AppCindex$model)
  cases[[paste0("mgus2_cause", k)]]$wolbers_call <-
    "pec::cindex(list(risk_matrix), Hist(time, event) ~ 1, eval.times = times, cause, cens.model = 'marginal')"
}
# ---- calibration in risk groups: plotCalibration(method = "quantile") -------
pdf(NULL)  # plotCalibration(plot = FALSE) still opens a device: no Rplots.pdf
calib <- function(df, risk_col, time, cause, cr, q) {
  x <- score_calibration(df, risk_col, time, cause, cr)
  pf <- plotCalibration(x, method = "quantile", q = q, plot = FALSE,
                        cens.method = "local")$plotFrames$model
  list(time = time, cause = cause, risk = risk_col, q = q, competing_risks = cr,
       predicted = V(pf$Pred), observed = V(pf$Obs),
       call = sprintf("plotCalibration(Score(..., plots = 'calibration'), method = 'quantile', q = %d, cens.method = 'local')", q))
}
calibration_cases <- list(
  mgus2_cause1 = calib(mg, "risk1_2", 120, 1, TRUE, 5),
  mgus2_cause2 = calib(mg, "risk2_1", 60, 2, TRUE, 10),
  rotterdam = calib(rot, "risk2", 5, 1, FALSE, 10)
)
cases$calibration <- calibration_cases

# ---- censoring weights from a Cox model (cens.model = "cox", conservative) ----
# Score fits the censoring model with rms::cph(eps = 1e-6), so agreement is
# limited by that convergence tolerance (about 1e-7 here).
META$rms <- as.character(packageVersion("rms"))
risk <- as.matrix(mg[, paste0("risk1_", seq_along(times_mg))])
sc <- Score(list(model = risk), Hist(time, event) ~ age + male, data = data.frame(mg),
            times = times_mg, cause = 1, metrics = c("auc", "brier"), summary = "ipa",
            cens.model = "cox", conservative = TRUE, se.fit = TRUE)
auc <- as.data.frame(sc$AUC$score); bri <- as.data.frame(sc$Brier$score)
m <- bri$model == "model"; z <- bri$model == "Null model"
cases$mgus2_cox_censoring <- list(
  description = "mgus2 cause 1, censoring weights from a Cox model on age + male",
  times = V(times_mg), cause = 1, censoring_covariates = S(c("age", "male")),
  auc = V(auc$AUC), auc_se_conservative = V(auc$se),
  brier = V(bri$Brier[m]), brier_se_conservative = V(bri$se[m]),
  brier_null = V(bri$Brier[z]), ipa = V(bri$IPA[m]),
  call = "Score(list(model = risk_matrix), Hist(time, event) ~ age + male, times, cause = 1, metrics = c('auc','brier'), summary = 'ipa', cens.model = 'cox', conservative = TRUE)")

write_results(cases, "score",
              "riskRegression::Score AUC/Brier/IPA (cens.model = 'km'), survival::concordance, pec::cindex")
