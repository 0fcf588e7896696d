# make_reference_score_cox.R -- Score's standard errors with a Cox censoring model (issue 14).
#
# riskRegression::Score(..., cens.model = "cox") weights by G(t | z) from a Cox
# model of the censoring times (rms::cph(eps = 1e-6), Efron ties). With
# conservative = FALSE its AUC and Brier influence functions add, for every
# subject k, (1/n) sum_i v_i IF_k[Lambda_C(s_i | z_i)]: the IPCW terms v_i
# (already divided by G) times the influence of subject k on the censoring
# model's cumulative hazard at s_i (T_i - half the smallest time increment for
# observed events, the horizon for subjects still at risk), which Score gets
# from predictCox(fit, iid = TRUE). So R does NOT ignore the censoring model's
# uncertainty unless conservative = TRUE.
#
# riskRegression 2022.11.28's influence function of the Cox coefficients
# (IFbeta_cpp) adds 1/S0(u) once per distinct censoring time u, not d(u)/S0(u):
# with tied censoring times it is not the influence function of the fit (its sum
# over subjects is not 0). survkit uses the fit's own dfbeta (Efron score
# residuals times the inverse information). So the cases are:
#   pbc_*: survival::pbc (trial patients), 7 patients whose censoring time
#     repeats an earlier one removed so that no censoring times tie: here R's
#     influence function is right and survkit must agree with it;
#   mgus2_cause1, lung_ties: with tied censoring times, R's numbers; the tests
#     reproduce them with R's IFbeta swapped in, and measure the difference.
#
# Inputs of the tied cases are the committed data files of make_reference_score.R
# (score_mgus2.csv: CSC absolute risks computed in R; score_lung.csv: ph.ecog / 4
# as a tied score); this script writes data/score_cox_pbc.csv and
# results/score_cox.json.
#
# Run from the repository root:  Rscript tests/reference/make_reference_score_cox.R
source(file.path("tests", "reference", "reference_helpers.R"))
META$script <- "tests/reference/make_reference_score_cox.R"
META$rms <- as.character(packageVersion("rms"))
META$data.table <- as.character(packageVersion("data.table"))

read_data <- function(name) read.csv(file.path(DATA, paste0(name, ".csv")))

cox_case <- function(df, risk, times, cr, covariates, description) {
  rhs <- paste(covariates, collapse = " + ")
  form <- as.formula(paste(if (cr) "Hist(time, event)" else "Hist(time, status)", "~", rhs))
  score_auc_brier_case(df, risk, times, 1, cr, form, "cox", description,
                       extra = list(censoring_covariates = S(covariates)), auc_agree = 1e-15)
}

cases <- list()

# ---- no tied censoring times: pbc, competing risks (death vs transplant) ------
pbc <- survival::pbc[1:312, ]
pbc <- data.frame(time = pbc$time, event = c(0, 2, 1)[pbc$status + 1],  # 1 death, 2 transplant
                  age = pbc$age, logbili = log(pbc$bili), albumin = pbc$albumin,
                  edema = pbc$edema, male = as.integer(pbc$sex == "m"))
censored_at <- ifelse(pbc$event == 0, pbc$time, NA)
pbc <- pbc[!(pbc$event == 0 & duplicated(censored_at, incomparables = NA)), ]
stopifnot(!any(duplicated(pbc$time[pbc$event == 0])))
times_pbc <- c(1000, 2000, 3000)
csc <- CSC(Hist(time, event) ~ age + logbili + albumin + edema, data = pbc)
r <- predictRisk(csc, newdata = pbc, times = times_pbc, cause = 1)
for (j in seq_along(times_pbc)) pbc[[paste0("risk", j)]] <- r[, j]
sv <- coxph(Surv(time, event != 0) ~ age + logbili + albumin + edema, data = pbc, x = TRUE,
            control = CTRL)
r <- predictRisk(sv, newdata = pbc, times = times_pbc)
for (j in seq_along(times_pbc)) pbc[[paste0("risk_any", j)]] <- r[, j]
pbc$status <- as.integer(pbc$event != 0)
pbc <- write_data(pbc, "score_cox_pbc")
cases$pbc_cause1 <- cox_case(
  pbc, as.matrix(pbc[, paste0("risk", seq_along(times_pbc))]), times_pbc, TRUE,
  c("age", "male"), "pbc trial, death (transplant competing), CSC risks; censoring ~ age + male")
cases$pbc_single <- cox_case(
  pbc, as.matrix(pbc[, paste0("risk_any", seq_along(times_pbc))]), times_pbc, FALSE,
  c("age", "albumin"), "pbc trial, death or transplant, Cox risks; censoring ~ age + albumin")

# ---- tied censoring times (R's influence function miscounts them) -------------
mg <- read_data("score_mgus2")
times_mg <- c(60, 120, 240)
cases$mgus2_cause1 <- cox_case(
  mg, as.matrix(mg[, paste0("risk1_", seq_along(times_mg))]), times_mg, TRUE,
  c("age", "male"), "mgus2 competing risks, cause 1, CSC risks; censoring ~ age + male")
lung <- read_data("score_lung")
times_lung <- c(180, 365, 540)
cases$lung_ties <- cox_case(
  lung, matrix(lung$score, nrow(lung), length(times_lung)), times_lung, FALSE,
  c("age"), "lung, ph.ecog / 4 (tied score, tied times); censoring ~ age")

write_results(cases, "score_cox",
              "riskRegression::Score AUC/Brier/IPA with cens.model = 'cox', conservative = FALSE and TRUE")
