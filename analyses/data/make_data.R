# analyses/data/make_data.R -- real data for analyses/ and what R says about it.
#
# Run from the repository root:  Rscript analyses/data/make_data.R
# Writes analyses/data/{rotterdam,mgus2,colon}.csv (competing first events,
# exact CSV round trip) and analyses/data/r_findings.json: for each data set,
# cmprsk::cuminc step functions per cause, cause-specific coxph (Efron) and
# cmprsk::crr fits for event 1, with the R and package versions.
#
# Sources (R's datasets, package survival):
#   rotterdam  Royston & Altman (2013), Rotterdam breast cancer data, 2982 patients;
#              time in days.
#   mgus2      Kyle et al. (2002), NEJM 346:564; 1384 patients with MGUS; time in months.
#   colon      Moertel et al. (1990), NEJM 322:352; adjuvant levamisole (+5-FU) in
#              stage B/C colon cancer, 929 patients; time in days.

source(file.path("tests", "reference", "reference_helpers.R"))
META$script <- "analyses/data/make_data.R"
DATA <- file.path("analyses", "data")     # write_data() writes here (not tests/reference/data)

# Competing first events: 1 = the event of interest, 2 = death without it, 0 = censored.
# rotterdam: relapse (recur) at rtime; otherwise death (or censoring) at dtime.
# 43 of the 195 deaths without a recorded relapse come after the last relapse
# follow-up (rtime < dtime); we take death at dtime as their first event.
rt <- survival::rotterdam
rot <- data.frame(
  pid = rt$pid,
  time = ifelse(rt$recur == 1, rt$rtime, rt$dtime),
  event = ifelse(rt$recur == 1, 1L, 2L * rt$death),
  age = rt$age, meno = rt$meno, size = as.character(rt$size), grade = rt$grade,
  nodes = rt$nodes, er_positive = as.integer(rt$er > 10),
  pgr_positive = as.integer(rt$pgr > 10), hormon = rt$hormon, chemo = rt$chemo
)
rot <- write_data(rot, "rotterdam")

mg <- survival::mgus2
mg <- mg[complete.cases(mg[, c("age", "sex", "hgb", "creat", "mspike")]), ]
mgd <- data.frame(
  id = mg$id,
  etime = ifelse(mg$pstat == 1, mg$ptime, mg$futime),
  event = ifelse(mg$pstat == 1, 1L, 2L * mg$death),
  age = mg$age, sex = as.character(mg$sex), hgb = mg$hgb, creat = mg$creat,
  mspike = mg$mspike
)
mgd <- write_data(mgd, "mgus2")

co <- survival::colon
rec <- co[co$etype == 1, ]
dth <- co[co$etype == 2, ]
stopifnot(identical(rec$id, dth$id))
keep <- complete.cases(rec[, c("rx", "sex", "age", "nodes", "extent")])
rec <- rec[keep, ]; dth <- dth[keep, ]
col <- data.frame(
  id = rec$id,
  time = ifelse(rec$status == 1, rec$time, dth$time),
  event = ifelse(rec$status == 1, 1L, 2L * dth$status),
  rx = as.character(rec$rx), sex = rec$sex, age = rec$age, nodes = rec$nodes,
  extent = rec$extent, obstruct = rec$obstruct
)
col <- write_data(col, "colon")

# Reference levels as survkit's report chooses them: text columns -> most frequent level.
rot$size <- relevel(factor(rot$size), ref = "<=20")
mgd$sex  <- relevel(factor(mgd$sex),  ref = "M")
col$rx   <- relevel(factor(col$rx),   ref = "Obs")

cuminc_steps <- function(d, tcol) {
  ci <- cuminc(d[[tcol]], d$event, cencode = 0)
  out <- list()
  for (k in c(1, 2)) {
    cu <- ci[[paste("1", k)]]
    out[[as.character(k)]] <- list(time = V(cu$time), est = V(cu$est), var = V(cu$var))
  }
  out
}
cox_fit <- function(d, tcol, rhs) {
  f <- as.formula(paste0("Surv(", tcol, ", event == 1) ~ ", rhs))
  m <- coxph(f, data = d, ties = "efron", control = CTRL)
  s <- summary(m)$coefficients
  list(formula = deparse(f), names = S(rownames(s)), coef = V(s[, "coef"]),
       se = V(s[, "se(coef)"]), p = V(s[, "Pr(>|z|)"]), loglik = V(m$loglik))
}
crr_fit <- function(d, tcol, rhs) {
  X <- model.matrix(as.formula(paste("~", rhs)), data = d)[, -1, drop = FALSE]
  m <- crr(d[[tcol]], d$event, X, failcode = 1, cencode = 0, gtol = CRR_GTOL,
           maxiter = CRR_MAXITER)
  list(names = S(colnames(X)), coef = V(m$coef), se = V(sqrt(diag(m$var))))
}
case <- function(d, tcol, rhs, unit) list(
  time_unit = unit, n = nrow(d), events = D(table(d$event)),
  cuminc = cuminc_steps(d, tcol), coxph = cox_fit(d, tcol, rhs), crr = crr_fit(d, tcol, rhs))

cases <- list(
  rotterdam = case(rot, "time",
    "age + meno + size + factor(grade) + nodes + er_positive + pgr_positive + hormon + chemo",
    "days"),
  mgus2 = case(mgd, "etime", "age + sex + hgb + creat + mspike", "months"),
  colon = case(col, "time", "rx + sex + age + nodes + extent + obstruct", "days")
)
RES <- DATA
write_results(cases, "r_findings",
  "cuminc step functions, cause-specific coxph (Efron) and crr for event 1 on analyses/data/*.csv")
