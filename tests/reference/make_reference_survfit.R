# make_reference_survfit.R -- issue 13: Kaplan-Meier, Nelson-Aalen, survdiff,
# quantiles, restricted means and survfit.coxph standard errors.
#
# Run from the repository root:  Rscript tests/reference/make_reference_survfit.R
# Reads data/lung.csv, data/veteran.csv, data/heart.csv (written by
# make_reference.R) and writes data/survfit_lung.csv (lung + integer weights
# wi), data/survfit_rotterdam.csv (survival::rotterdam, many tied times) and
# results/survfit.json.  See README.md, section "results/survfit.json".

source(file.path("tests", "reference", "reference_helpers.R"))
META$script <- "tests/reference/make_reference_survfit.R"

lung0 <- read.csv(file.path(DATA, "lung.csv"))
lung0$wi <- 1 + lung0$id %% 3                     # integer case weights 1, 2, 3
lung <- write_data(lung0[, c("id", "time", "status", "age", "sex", "ph_ecog", "w", "wi")],
                   "survfit_lung")
veteran <- read.csv(file.path(DATA, "veteran.csv"))
heart <- read.csv(file.path(DATA, "heart.csv"))
ro <- survival::rotterdam
rotterdam <- write_data(data.frame(pid = ro$pid, rtime = ro$rtime, recur = ro$recur,
                                   dtime = ro$dtime, death = ro$death, grade = ro$grade,
                                   hormon = ro$hormon, chemo = ro$chemo, age = ro$age,
                                   nodes = ro$nodes), "survfit_rotterdam")
DATASETS <- list(survfit_lung = lung, veteran = veteran, heart = heart,
                 survfit_rotterdam = rotterdam)

# group label of every row of a survfit: the text after "name=" in its strata
group_of <- function(fit) {
  if (is.null(fit$strata)) return(NULL)
  S(sub("^[^=]*=", "", rep(names(fit$strata), fit$strata)))
}
strata_names <- function(fit) if (is.null(fit$strata)) NULL else S(sub("^[^=]*=", "", names(fit$strata)))

# standard error of S on the survival scale (summary.survfit's std.err)
se_surv <- function(fit) if (isTRUE(fit$logse)) fit$std.err * fit$surv else fit$std.err

KM_TIMES <- list(survfit_lung = c(0, 90, 180, 365, 500, 730, 1100),
                 veteran = c(10, 30, 90, 180, 365, 999),
                 heart = c(5, 30, 100, 365, 1000, 2000),
                 survfit_rotterdam = c(365, 1000, 2000, 3650, 5000, 7000, 8000))
RMEAN_TAU <- list(survfit_lung = 600, veteran = 200, heart = 500, survfit_rotterdam = 3650)

km_case <- function(data_name, duration, event, group = NULL, entry = NULL,
                    weights = NULL, conf_type = "log") {
  d <- DATASETS[[data_name]]
  lhs <- if (is.null(entry)) sprintf("Surv(%s, %s)", duration, event)
         else sprintf("Surv(%s, %s, %s)", entry, duration, event)
  f <- as.formula(paste(lhs, "~", if (is.null(group)) "1" else group))
  d$.w <- if (is.null(weights)) rep(1, nrow(d)) else d[[weights]]
  fit <- survfit(f, data = d, weights = .w, conf.type = conf_type)
  tt <- KM_TIMES[[data_name]]
  sm <- summary(fit, times = tt)
  q <- quantile(fit, probs = c(0.25, 0.5, 0.75))
  rm_common <- summary(fit, rmean = "common")$table
  rm_tau <- summary(fit, rmean = RMEAN_TAU[[data_name]])$table
  if (is.null(dim(rm_common))) {
    rm_common <- t(as.matrix(rm_common)); rm_tau <- t(as.matrix(rm_tau))
  }
  list(
    call = paste(deparse(f), if (!is.null(weights)) paste("weights =", weights) else "",
                 "conf.type =", conf_type),
    data = data_name, duration = duration, event = event, group = group, entry = entry,
    weights = weights, conf_type = conf_type, robust = !isTRUE(fit$logse),
    curve = list(group = group_of(fit), time = V(fit$time), n_risk = V(fit$n.risk),
                 n_event = V(fit$n.event), n_censor = V(fit$n.censor), surv = V(fit$surv),
                 std_err = V(se_surv(fit)), lower = V(fit$lower), upper = V(fit$upper),
                 cumhaz = V(fit$cumhaz), std_chaz = V(fit$std.chaz)),
    summary_times = list(times = V(tt), group = if (is.null(sm$strata)) NULL
                                                 else S(sub("^[^=]*=", "", sm$strata)),
                         time = V(sm$time), n_risk = V(sm$n.risk), n_event = V(sm$n.event),
                         n_censor = V(sm$n.censor), surv = V(sm$surv),
                         std_err = V(sm$std.err), lower = V(sm$lower), upper = V(sm$upper)),
    quantiles = list(probs = V(c(0.25, 0.5, 0.75)), groups = strata_names(fit),
                     quantile = M(matrix(q$quantile, ncol = 3)),
                     lower = M(matrix(q$lower, ncol = 3)),
                     upper = M(matrix(q$upper, ncol = 3))),
    rmean_common = list(tau = max(fit$time), rmean = V(rm_common[, "rmean"]),
                        se = V(rm_common[, "se(rmean)"])),
    rmean_tau = list(tau = RMEAN_TAU[[data_name]], rmean = V(rm_tau[, "rmean"]),
                     se = V(rm_tau[, "se(rmean)"]))
  )
}

km <- list()
km$lung_by_sex <- km_case("survfit_lung", "time", "status", "sex")
km$lung_by_sex_loglog <- km_case("survfit_lung", "time", "status", "sex", conf_type = "log-log")
km$lung_plain <- km_case("survfit_lung", "time", "status", conf_type = "plain")
km$lung_weighted <- km_case("survfit_lung", "time", "status", "sex", weights = "w")
km$lung_intweights <- km_case("survfit_lung", "time", "status", "sex", weights = "wi")
km$veteran_celltype <- km_case("veteran", "time", "status", "celltype")
km$heart_entry <- km_case("heart", "stop", "event", "surgery", entry = "start")
km$heart_entry_weighted <- km_case("heart", "stop", "event", "surgery", entry = "start",
                                   weights = "w")
km$rotterdam_grade <- km_case("survfit_rotterdam", "rtime", "recur", "grade")
km$rotterdam_death_loglog <- km_case("survfit_rotterdam", "dtime", "death",
                                     conf_type = "log-log")
stopifnot(km$lung_weighted$robust, !km$lung_intweights$robust)

# ---------------------------------------------------------------- Nelson-Aalen
na_case <- function(data_name, duration, event, group = NULL, entry = NULL,
                    weights = NULL, ctype = 1) {
  d <- DATASETS[[data_name]]
  lhs <- if (is.null(entry)) sprintf("Surv(%s, %s)", duration, event)
         else sprintf("Surv(%s, %s, %s)", entry, duration, event)
  f <- as.formula(paste(lhs, "~", if (is.null(group)) "1" else group))
  d$.w <- if (is.null(weights)) rep(1, nrow(d)) else d[[weights]]
  fit <- survfit(f, data = d, weights = .w, stype = 2, ctype = ctype)
  list(call = paste(deparse(f), "stype = 2, ctype =", ctype,
                    if (!is.null(weights)) paste("weights =", weights) else ""),
       data = data_name, duration = duration, event = event, group = group, entry = entry,
       weights = weights, ctype = ctype, robust = !isTRUE(fit$logse),
       curve = list(group = group_of(fit), time = V(fit$time), n_risk = V(fit$n.risk),
                    n_event = V(fit$n.event), cumhaz = V(fit$cumhaz),
                    std_chaz = V(fit$std.chaz), surv = V(fit$surv),
                    lower = V(fit$lower), upper = V(fit$upper)))
}
na <- list()
na$lung_by_sex_ctype1 <- na_case("survfit_lung", "time", "status", "sex")
na$lung_by_sex_ctype2 <- na_case("survfit_lung", "time", "status", "sex", ctype = 2)
na$lung_intweights_ctype2 <- na_case("survfit_lung", "time", "status", weights = "wi", ctype = 2)
na$lung_weighted_ctype1 <- na_case("survfit_lung", "time", "status", "sex", weights = "w")
na$heart_entry_ctype1 <- na_case("heart", "stop", "event", entry = "start")
na$rotterdam_grade_ctype2 <- na_case("survfit_rotterdam", "rtime", "recur", "grade", ctype = 2)

# --------------------------------------------------------------------- survdiff
sd_case <- function(data_name, duration, event, group, strata = NULL, rho = 0) {
  d <- DATASETS[[data_name]]
  rhs <- paste(c(group, if (!is.null(strata)) sprintf("strata(%s)", strata)), collapse = " + ")
  f <- as.formula(sprintf("Surv(%s, %s) ~ %s", duration, event, rhs))
  sd <- survdiff(f, data = d, rho = rho)
  obs <- as.matrix(sd$obs); ex <- as.matrix(sd$exp)
  if (is.null(strata)) { obs <- matrix(obs, ncol = 1); ex <- matrix(ex, ncol = 1) }
  e <- rowSums(ex)
  list(call = paste(deparse(f), "rho =", rho), data = data_name, duration = duration,
       event = event, group = group, strata = strata, rho = rho,
       groups = S(sub("^[^=]*=", "", names(sd$n))), n = V(sd$n),
       strata_levels = if (is.null(strata)) NULL else S(sub("^[^=]*=", "", names(sd$strata))),
       observed = M(obs), expected = M(ex), var = M(sd$var),
       chisq = sd$chisq, df = sum(e > 0) - 1, p = sd$pvalue)
}
sdf <- list()
sdf$lung_sex <- sd_case("survfit_lung", "time", "status", "sex")
sdf$lung_sex_rho1 <- sd_case("survfit_lung", "time", "status", "sex", rho = 1)
sdf$lung_sex_strata_ecog <- sd_case("survfit_lung", "time", "status", "sex", strata = "ph_ecog")
sdf$veteran_celltype_rho05 <- sd_case("veteran", "time", "status", "celltype", rho = 0.5)
sdf$rotterdam_grade_strata_hormon <- sd_case("survfit_rotterdam", "rtime", "recur", "grade",
                                             strata = "hormon")
sdf$rotterdam_hormon <- sd_case("survfit_rotterdam", "dtime", "death", "hormon")

# ---------------------------------------------------------- survfit.coxph + se
cox_case <- function(data_name, duration, event, covariates, entry = NULL, strata = NULL,
                     weights = NULL, ties = "efron", newdata, times, conf_type = "log") {
  d <- DATASETS[[data_name]]
  lhs <- if (is.null(entry)) sprintf("Surv(%s, %s)", duration, event)
         else sprintf("Surv(%s, %s, %s)", entry, duration, event)
  rhs <- paste(c(covariates, if (!is.null(strata)) sprintf("strata(%s)", strata)),
               collapse = " + ")
  f <- as.formula(paste(lhs, "~", rhs))
  d$.w <- if (is.null(weights)) rep(1, nrow(d)) else d[[weights]]
  fit <- coxph(f, data = d, weights = .w, ties = ties, control = CTRL)
  sf <- survfit(fit, newdata = newdata, conf.type = conf_type)
  rows <- list()
  for (i in seq_len(nrow(newdata))) {
    s <- summary(sf[i], times = times)
    rows[[i]] <- list(time = V(s$time), surv = V(s$surv), std_err = V(s$std.err),
                      lower = V(s$lower), upper = V(s$upper), cumhaz = V(s$cumhaz),
                      std_err_cumhaz = V(s$std.err / s$surv))
  }
  list(call = paste(deparse(f), "ties =", ties,
                    if (!is.null(weights)) paste("weights =", weights) else ""),
       data = data_name, duration = duration, event = event, covariates = S(covariates),
       entry = entry, strata = strata, weights = weights, ties = ties,
       robust = !is.null(fit$naive.var), coef = V(coef(fit)), conf_type = conf_type,
       newdata = records(newdata), times = V(times), predictions = rows)
}
LCOV <- c("age", "sex", "ph_ecog")
lung_nd <- data.frame(age = c(50, 70, 62), sex = c(1, 2, 1), ph_ecog = c(0, 2, 1))
LT <- c(30, 100, 300, 500, 800)
HCOV <- c("age", "year", "surgery")
heart_nd <- data.frame(age = c(-10, 5, 0), year = c(1, 3, 5), surgery = c(0, 1, 0),
                       transplant = c(0, 1, 1))
HT <- c(10, 50, 100, 500, 1000)
cx <- list()
cx$lung_efron <- cox_case("survfit_lung", "time", "status", LCOV, newdata = lung_nd, times = LT)
cx$lung_breslow <- cox_case("survfit_lung", "time", "status", LCOV, ties = "breslow",
                            newdata = lung_nd, times = LT)
cx$lung_efron_loglog <- cox_case("survfit_lung", "time", "status", LCOV, newdata = lung_nd,
                                 times = LT, conf_type = "log-log")
cx$lung_breslow_plain <- cox_case("survfit_lung", "time", "status", LCOV, ties = "breslow",
                                  newdata = lung_nd, times = LT, conf_type = "plain")
cx$lung_strata_sex <- cox_case("survfit_lung", "time", "status", c("age", "ph_ecog"),
                               strata = "sex", newdata = lung_nd, times = LT)
cx$lung_weighted <- cox_case("survfit_lung", "time", "status", LCOV, weights = "w",
                             newdata = lung_nd, times = LT)
cx$lung_intweights <- cox_case("survfit_lung", "time", "status", LCOV, weights = "wi",
                               newdata = lung_nd, times = LT)
cx$heart_efron <- cox_case("heart", "stop", "event", c(HCOV, "transplant"), entry = "start",
                           newdata = heart_nd, times = HT)
cx$heart_breslow <- cox_case("heart", "stop", "event", c(HCOV, "transplant"), entry = "start",
                             ties = "breslow", newdata = heart_nd, times = HT)
cx$heart_weighted_strata <- cox_case("heart", "stop", "event", HCOV, entry = "start",
                                     strata = "transplant", weights = "w",
                                     newdata = heart_nd, times = HT)
cx$rotterdam_efron <- cox_case("survfit_rotterdam", "rtime", "recur",
                               c("age", "nodes", "hormon", "chemo"), strata = "grade",
                               newdata = data.frame(age = c(45, 60), nodes = c(0, 4),
                                                    hormon = c(0, 1), chemo = c(1, 0),
                                                    grade = c(2, 3)),
                               times = c(100, 365, 1000, 2000, 3650))
stopifnot(cx$lung_weighted$robust, !cx$lung_intweights$robust)

# ------------------------------------------- CSC absolute risks with se = TRUE
# csc_synth: continuous times (no ties), two causes, written with write_data.
set.seed(1313)
ncs <- 300
cs <- data.frame(id = seq_len(ncs), x1 = round(rnorm(ncs), 4), x2 = rbinom(ncs, 1, 0.4))
t1 <- rexp(ncs, 0.3 * exp(0.6 * cs$x1 - 0.4 * cs$x2))
t2 <- rexp(ncs, 0.2 * exp(-0.3 * cs$x1 + 0.5 * cs$x2))
cz <- runif(ncs, 0, 5)
cs$time <- round(pmin(t1, t2, cz), 6)
cs$event <- ifelse(cs$time == round(cz, 6), 0L, ifelse(t1 < t2, 1L, 2L))
stopifnot(!anyDuplicated(cs$time))
csc_synth <- write_data(cs, "survfit_csc_synth")
mgus2_ref <- read.csv(file.path(DATA, "mgus2.csv"))
DATASETS$survfit_csc_synth <- csc_synth
DATASETS$mgus2 <- mgus2_ref

csc_case <- function(data_name, duration, event, covariates, newdata, times) {
  d <- DATASETS[[data_name]]
  f <- as.formula(sprintf("Hist(%s, %s) ~ %s", duration, event,
                          paste(covariates, collapse = " + ")))
  fit <- CSC(f, data = d, ties = "breslow", control = CTRL)
  causes <- fit$causes
  last_event <- sapply(causes, function(k) max(d[[duration]][d[[event]] == k]))
  out <- list(call = paste(deparse(f), "ties = breslow"), data = data_name,
              duration = duration, event = event, covariates = S(covariates),
              causes = S(causes), last_event_time = V(last_event),
              newdata = records(newdata), times = V(times), risk = list())
  for (pl in c(TRUE, FALSE)) for (k in causes) {
    p <- predict(fit, newdata = newdata, times = times, cause = k, se = TRUE,
                 product.limit = pl)
    out$risk[[sprintf("cause_%s_%s", k, if (pl) "product_limit" else "exponential")]] <-
      list(absRisk = M(p$absRisk), se = M(p$absRisk.se))
  }
  out
}
csc <- list()
csc$synth_untied <- csc_case("survfit_csc_synth", "time", "event", c("x1", "x2"),
                             data.frame(x1 = c(-1, 0, 1.5), x2 = c(0, 1, 1)),
                             c(0.25, 0.5, 1, 2, 3.95))
# 3.95 lies after cause 2's last event time and before cause 1's
stopifnot(max(csc$synth_untied$times) > min(csc$synth_untied$last_event_time),
          max(csc$synth_untied$times) < max(csc$synth_untied$last_event_time))
csc$mgus2_tied <- csc_case("mgus2", "etime", "event", c("age", "male", "hgb", "creat", "mspike"),
                           mgus2_ref[1:3, c("age", "male", "hgb", "creat", "mspike")],
                           c(12, 60, 120, 240))

write_results(list(kaplan_meier = km, nelson_aalen = na, survdiff = sdf, coxph = cx, csc = csc),
              "survfit",
              paste("survfit (KM, Nelson-Aalen), summary(times=), quantile.survfit,",
                    "print(rmean=), survdiff, survfit.coxph with se, predict(CSC, se = TRUE)"))
