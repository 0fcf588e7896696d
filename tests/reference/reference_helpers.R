# reference_helpers.R -- shared by every tests/reference/make_*.R script.
#
# Libraries, tightened convergence controls, META (R and package versions),
# the exact CSV round trip (write_data), JSON shapes and write_results.
# A script sources this file, then sets META$script to its own path.
# Scripts that need more packages load them themselves and add their versions
# to META.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(riskRegression)
  library(prodlim)      # Hist() for CSC formulas (riskRegression dependency)
  library(timereg)      # for data(bmt)
  library(jsonlite)
})
options(digits = 17, stringsAsFactors = FALSE)

REF  <- file.path("tests", "reference")
if (!dir.exists(REF)) stop("run from the repository root (tests/reference not found)")
DATA <- file.path(REF, "data")
RES  <- file.path(REF, "results")
dir.create(DATA, showWarnings = FALSE, recursive = TRUE)
dir.create(RES,  showWarnings = FALSE, recursive = TRUE)

CTRL <- coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100)
CRR_GTOL <- 1e-12
CRR_MAXITER <- 100

META <- list(
  R = R.version.string,
  survival = as.character(packageVersion("survival")),
  cmprsk = as.character(packageVersion("cmprsk")),
  riskRegression = as.character(packageVersion("riskRegression")),
  timereg = as.character(packageVersion("timereg")),
  prodlim = as.character(packageVersion("prodlim")),
  jsonlite = as.character(packageVersion("jsonlite")),
  date = format(Sys.Date(), "%Y-%m-%d"),
  script = NA_character_,   # set by the sourcing script
  coxph_control = "coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100)",
  crr_control = "gtol = 1e-12, maxiter = 100",
  number_format = "jsonlite toJSON(digits = NA): 15 significant digits; NA/NaN/Inf -> null"
)

ALL_WARNINGS <- list()   # case -> R warning messages (printed at the end)

# -----------------------------------------------------------------------------
# Helpers: exact CSV round trip, JSON shapes, warning capture
# -----------------------------------------------------------------------------

# Numbers as text that parse back to the identical double: 15 significant
# digits when that round-trips, 17 otherwise.
num_to_chr <- function(x) {
  s <- as.character(x)
  bad <- as.numeric(s) != x
  s[bad] <- sprintf("%.17g", x[bad])
  s
}

# Write df to data/<name>.csv and return it as read back (the fits use this).
write_data <- function(df, name) {
  out <- df
  for (j in seq_along(out)) {
    v <- out[[j]]
    if (is.factor(v)) v <- as.character(v)
    if (is.logical(v)) v <- as.integer(v)
    if (is.numeric(v)) {
      if (any(is.na(v))) stop(name, ": NA in column ", names(out)[j])
      out[[j]] <- num_to_chr(v)
    } else {
      out[[j]] <- as.character(v)
      if (any(grepl("[,\"\n]", out[[j]]))) stop(name, ": text needs quoting")
    }
  }
  path <- file.path(DATA, paste0(name, ".csv"))
  write.csv(out, path, row.names = FALSE, quote = FALSE)
  back <- read.csv(path, stringsAsFactors = FALSE)
  stopifnot(identical(names(back), names(df)), nrow(back) == nrow(df))
  for (v in names(df)) {
    if (is.numeric(df[[v]]) || is.logical(df[[v]])) {
      if (!identical(as.numeric(back[[v]]), as.numeric(df[[v]])))
        stop("CSV round trip not exact for ", name, "$", v)
    } else if (!identical(as.character(back[[v]]), as.character(df[[v]]))) {
      stop("CSV round trip changed ", name, "$", v)
    }
  }
  back
}

# JSON shapes.  I() keeps length-1 vectors as arrays under auto_unbox = TRUE.
V  <- function(x) I(unname(as.numeric(x)))                   # number array
S  <- function(x) I(unname(as.character(x)))                 # string array
D  <- function(x) as.list(x)                                 # {name: value}
M  <- function(m) {                                          # row-major [[..]]
  m <- as.matrix(m)
  lapply(seq_len(nrow(m)), function(i) V(m[i, ]))
}
records <- function(df) {                                    # [{col: value}, ..]
  df <- as.data.frame(df)
  for (v in names(df)) if (is.factor(df[[v]])) df[[v]] <- as.character(df[[v]])
  lapply(seq_len(nrow(df)), function(i) as.list(df[i, , drop = FALSE]))
}
chi2 <- function(stat, df)            # chi-square test -> dict
  list(statistic = unname(stat), df = df,
       p = pchisq(unname(stat), df, lower.tail = FALSE))

# Evaluate expr, collecting (and muffling) its warnings.
capture <- function(expr) {
  w <- character()
  value <- withCallingHandlers(expr, warning = function(cnd) {
    w <<- c(w, conditionMessage(cnd))
    invokeRestart("muffleWarning")
  })
  list(value = value, warnings = w)
}

note_warnings <- function(case, w) {
  if (length(w)) ALL_WARNINGS[[case]] <<- w
  S(w)
}

write_results <- function(cases, name, description, extra = list()) {
  obj <- c(list(meta = c(META, list(file = paste0(name, ".json"),
                                    description = description)),
                cases = cases), extra)
  txt <- toJSON(obj, digits = NA, auto_unbox = TRUE, pretty = TRUE,
                na = "null", null = "null")
  writeLines(txt, file.path(RES, paste0(name, ".json")))
  # sanity: the file parses and has every case
  chk <- fromJSON(file.path(RES, paste0(name, ".json")), simplifyVector = FALSE)
  stopifnot(identical(names(chk$cases), names(cases)))
  cat(sprintf("wrote results/%s.json (%d cases)\n", name, length(cases)))
}

# riskRegression::Score with plots = "calibration" for one risk column at one
# time (Kaplan-Meier censoring, no metrics): what plotCalibration reads. Needs
# riskRegression and prodlim (Hist) loaded by the calling script.
score_calibration <- function(df, risk_col, time, cause, cr) {
  form <- if (cr) Hist(time, event) ~ 1 else Hist(time, status) ~ 1
  args <- list(object = list(model = as.matrix(df[[risk_col]])), formula = form,
               data = data.frame(df), times = time, plots = "calibration",
               metrics = NULL, null.model = FALSE, se.fit = FALSE, cens.model = "km")
  if (cr) args$cause <- cause
  do.call(Score, args)
}

# riskRegression::Score's AUC and Brier/IPA with full and conservative standard
# errors for one risk matrix, as one stored case (score and score_cox scripts).
# `extra` fields go after competing_risks; `auc_agree` bounds how far the
# conservative run's AUC may differ from the full one's (0: identical).
score_auc_brier_case <- function(df, risk, times, cause, cr, form, cens_model,
                                 description, extra = list(), auc_agree = 0) {
  args <- list(object = list(model = risk), formula = form,
               data = data.frame(df),  # a copy: Score turns its data into a data.table in place
               times = times, metrics = c("auc", "brier"), summary = "ipa",
               cens.model = cens_model, null.model = TRUE, se.fit = TRUE)
  if (cr) args$cause <- cause
  full <- do.call(Score, c(args, list(conservative = FALSE)))
  cons <- do.call(Score, c(args, list(conservative = TRUE)))
  auc <- as.data.frame(full$AUC$score)
  auc_c <- as.data.frame(cons$AUC$score)
  bri <- as.data.frame(full$Brier$score)
  bri_c <- as.data.frame(cons$Brier$score)
  m <- bri$model == "model"; z <- bri$model == "Null model"
  stopifnot(all(auc$times == times), all(abs(auc_c$AUC - auc$AUC) <= auc_agree),
            all(bri$times[m] == times), all(bri$times[z] == times))
  c(list(description = description, times = V(times), cause = cause, competing_risks = cr),
    extra,
    list(auc = V(auc$AUC), auc_se = V(auc$se), auc_se_conservative = V(auc_c$se),
         brier = V(bri$Brier[m]), brier_se = V(bri$se[m]),
         brier_se_conservative = V(bri_c$se[m]),
         brier_null = V(bri$Brier[z]), brier_null_se = V(bri$se[z]),
         ipa = V(bri$IPA[m]),
         call = paste0("Score(list(model = risk_matrix), ", deparse(form),
                       ", times, metrics = c('auc','brier'), summary = 'ipa', ",
                       "cens.model = '", cens_model, "', conservative = FALSE/TRUE",
                       if (cr) paste0(", cause = ", cause) else "", ")")))
}
