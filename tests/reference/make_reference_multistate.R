# make_reference_multistate.R -- multi-state reference values (issue 15).
#
# Run from the repository root:  Rscript tests/reference/make_reference_multistate.R
#
# Data (written to data/, exact CSV round trip) in the event-history form that
# survkit.multistate uses: one row per (subject, interval), columns
#   id, tstart, tstop, from (state occupied on the interval), to (state
#   entered at tstop, or "censor"), covariates.
# Fits:
#   survfit(Surv(tstart, tstop, to) ~ 1 | group, id = id, istate = from)
#     -> pstate, std.err (infinitesimal jackknife), n.risk, n.event per time
#   coxph(Surv(tstart, tstop, to) ~ covariates, id = id, istate = from)
#     -> coef, var (robust, clustered on id), naive.var, loglik
#   NOTE: survival 3.5-3's coxph has `if (!missing.ties) method <- ties <-
#   "breslow"` for multi-state models: an explicit `ties` (even "efron") gives
#   Breslow, while leaving `ties` out gives Efron (later versions fixed the
#   test to `missing.ties`, making Breslow the default). The cases pass ties
#   explicitly (Breslow) except `cox_mgus2_default_ties` (Efron); fit$method
#   is stored per case.
# Results in results/multistate.json.

source(file.path("tests", "reference", "reference_helpers.R"))
META$script <- "tests/reference/make_reference_multistate.R"

# ---------------------------------------------------------------- data sets
# mgus2: progression (pcm) then death, built as in survival's "compete"
# vignette: a progression on the day of the last follow-up is moved 0.1 month
# earlier so that the two transitions have distinct times.
ms_mgus2 <- function() {
  m <- survival::mgus2
  ptemp <- with(m, ifelse(ptime == futime & pstat == 1, ptime - 0.1, ptime))
  rows <- list()
  wide <- data.frame(id = m$id, ptime = ptemp, pstat = m$pstat,
                     futime = m$futime, death = m$death,
                     age = m$age, male = as.integer(m$sex == "M"))
  for (i in seq_len(nrow(m))) {
    w <- wide[i, ]
    if (w$pstat == 1) {
      rows[[length(rows) + 1]] <- data.frame(id = w$id, tstart = 0, tstop = w$ptime,
                                             from = "mgus", to = "pcm")
      rows[[length(rows) + 1]] <- data.frame(id = w$id, tstart = w$ptime, tstop = w$futime,
                                             from = "pcm",
                                             to = ifelse(w$death == 1, "death", "censor"))
    } else {
      rows[[length(rows) + 1]] <- data.frame(id = w$id, tstart = 0, tstop = w$futime,
                                             from = "mgus",
                                             to = ifelse(w$death == 1, "death", "censor"))
    }
  }
  long <- do.call(rbind, rows)
  long <- merge(long, wide[, c("id", "age", "male")], by = "id", sort = FALSE)
  long <- long[order(long$id, long$tstart), ]
  rownames(long) <- NULL
  list(wide = wide, long = long)
}

# rotterdam: relapse then death (days). As survival's documentation advises,
# a subject without recurrence is followed for relapse until dtime (rtime is a
# censoring time for recurrence that is earlier than the death follow-up for
# 43 subjects). 13 recurrences on the day of death are moved half a day earlier.
ms_rotterdam <- function() {
  r <- survival::rotterdam
  id <- r$pid
  rtime <- with(r, ifelse(recur == 1 & rtime == dtime, rtime - 0.5, rtime))
  wide <- data.frame(id = id, rtime = ifelse(r$recur == 1, rtime, r$dtime),
                     recur = r$recur, dtime = r$dtime, death = r$death,
                     age = r$age, nodes = r$nodes, hormon = r$hormon)
  first <- data.frame(id = id, tstart = 0, tstop = wide$rtime, from = "primary",
                      to = ifelse(r$recur == 1, "relapse",
                                  ifelse(r$death == 1, "death", "censor")))
  rel <- which(r$recur == 1)
  second <- data.frame(id = id[rel], tstart = wide$rtime[rel], tstop = r$dtime[rel],
                       from = "relapse", to = ifelse(r$death[rel] == 1, "death", "censor"))
  long <- rbind(first, second)
  long <- merge(long, wide[, c("id", "age", "nodes", "hormon")], by = "id", sort = FALSE)
  long <- long[order(long$id, long$tstart), ]
  rownames(long) <- NULL
  list(wide = wide, long = long)
}

# A small synthetic multi-organ cohort: free -> bone, liver, death;
# bone -> liver, death; liver -> death. Exponential hazards, times rounded up
# to 0.05 years so that there are tied transition times.
ms_synthetic <- function(n = 400) {
  set.seed(20261130)
  x1 <- round(rnorm(n), 3)
  x2 <- rbinom(n, 1, 0.4)
  cens <- ceiling(runif(n, 2, 8) / 0.05) * 0.05
  rate <- function(b0, b1, b2) exp(b0 + b1 * x1 + b2 * x2)
  step <- function(t) ceiling(t / 0.05) * 0.05
  rows <- list()
  for (i in seq_len(n)) {
    t <- 0
    state <- "free"
    repeat {
      haz <- switch(state,
        free  = c(bone = rate(-1.6, 0.5, 0.0)[i], liver = rate(-2.3, 0.0, 0.7)[i],
                  death = rate(-2.8, 0.3, 0.0)[i]),
        bone  = c(liver = rate(-1.2, 0.4, 0.0)[i], death = rate(-1.6, 0.0, 0.5)[i]),
        liver = c(death = rate(-0.9, 0.3, 0.0)[i]),
        death = NULL)
      if (is.null(haz)) break
      wait <- rexp(1, sum(haz))
      nxt <- sample(names(haz), 1, prob = haz)
      tnew <- step(t + wait)
      if (tnew <= t) tnew <- t + 0.05
      if (tnew >= cens[i]) {
        rows[[length(rows) + 1]] <- data.frame(id = i, tstart = t, tstop = cens[i],
                                               from = state, to = "censor")
        break
      }
      rows[[length(rows) + 1]] <- data.frame(id = i, tstart = t, tstop = tnew,
                                             from = state, to = nxt)
      t <- tnew
      state <- nxt
    }
  }
  long <- do.call(rbind, rows)
  long$x1 <- x1[long$id]
  long$x2 <- x2[long$id]
  # the stored times are sums of multiples of 0.05: round them to 2 decimals so
  # that the CSV round trip is exact and tied times are exactly equal
  long$tstart <- round(long$tstart, 2)
  long$tstop <- round(long$tstop, 2)
  list(long = long)
}

# ---------------------------------------------------------------- fitters
# influence = TRUE matters only when the starting states are mixed: survival
# 3.5-3 then adds the influence of the estimated starting distribution p0 to
# the standard errors, while its default (influence = FALSE) leaves it out
# (later versions, survfitAJ, always include it). The mixed-start case stores
# both.
aj_case <- function(long, data_name, group, states, influence = FALSE,
                    start_time = NULL, landmark = NULL, p0 = NULL) {
  long$to <- factor(long$to, levels = c("censor", states[-1]))
  long$from <- factor(long$from, levels = states)
  f <- if (is.null(group)) Surv(tstart, tstop, to) ~ 1 else
    as.formula(paste("Surv(tstart, tstop, to) ~", group))
  if (!is.null(landmark)) {  # patients in `landmark` at start_time (LMAJ)
    ids <- unique(long$id[long$from == landmark & long$tstart <= start_time &
                          long$tstop > start_time])
    long <- long[long$id %in% ids, ]
  }
  cap <- capture(if (is.null(start_time))
    survfit(f, data = long, id = id, istate = from, influence = influence) else
    if (is.null(p0)) survfit(f, data = long, id = id, istate = from, influence = influence,
                             start.time = start_time) else
    survfit(f, data = long, id = id, istate = from, influence = influence,
            start.time = start_time, p0 = p0))
  fit <- cap$value
  plain <- if (influence) survfit(f, data = long, id = id, istate = from) else NULL
  if (!is.null(start_time)) plain <- NULL
  strata <- if (is.null(fit$strata)) NULL else
    list(names = S(sub("^[^=]*=", "", names(fit$strata))), sizes = V(fit$strata))
  list(data = data_name, call = paste(deparse(f), collapse = ""),
       group = if (is.null(group)) NULL else group,
       states = S(fit$states), time = V(fit$time),
       strata = strata,
       pstate = M(fit$pstate), std_err = M(fit$std.err),
       n_risk = M(fit$n.risk), n_event = M(fit$n.event),
       n_censor = V(fit$n.censor), influence = influence,
       start_time = start_time, landmark_state = landmark,
       p0 = if (is.null(p0)) NULL else D(setNames(p0, states)),
       std_err_without_p0 = if (is.null(plain)) NULL else M(plain$std.err),
       lower = M(fit$lower), upper = M(fit$upper), conf_type = fit$conf.type,
       warnings = note_warnings(data_name, cap$warnings))
}

cox_case <- function(long, data_name, covariates, states, ties = "breslow",
                     shared = NULL, shared_baseline = NULL) {
  long$to <- factor(long$to, levels = c("censor", states[-1]))
  long$from <- factor(long$from, levels = states)
  f <- as.formula(paste("Surv(tstart, tstop, to) ~", paste(covariates, collapse = " + ")))
  # shared = list(covariate = "1:3 + 2:3"): one common coefficient (R's / common)
  if (!is.null(shared))
    f <- c(list(f), lapply(names(shared), function(v)
      as.formula(paste(shared[[v]], "~", v, "/ common"))))
  # shared_baseline = "1:3 + 2:3": one baseline hazard for these transitions, with a
  # proportionality coefficient ph(2:3/1:3) for each but the first (R's / shared)
  if (!is.null(shared_baseline))
    f <- c(if (is.list(f)) f else list(f),
           list(as.formula(paste(shared_baseline, "~ 1 / shared"))))
  cap <- capture(if (is.null(ties))
    coxph(f, data = long, id = id, istate = from, control = CTRL) else
    coxph(f, data = long, id = id, istate = from, ties = ties, control = CTRL))
  fit <- cap$value
  naive <- if (is.null(fit$naive.var)) fit$var else fit$naive.var
  # transitions: cmap columns are "from:to" (state numbers), rows are the terms
  trans <- colnames(fit$cmap)
  list(data = data_name, call = paste(deparse(f), collapse = ""),
       shared = if (is.null(shared)) NULL else shared,
       shared_baseline = shared_baseline,
       covariates = S(covariates), ties = if (is.null(ties)) "(missing)" else ties,
       method = fit$method,
       states = S(fit$states),
       transitions = S(trans),
       coef = D(fit$coefficients), se = V(sqrt(diag(fit$var))),
       naive_se = V(sqrt(diag(naive))),
       var = M(fit$var), naive_var = M(naive),
       loglik = V(fit$loglik), n = fit$n, nevent = fit$nevent,
       robust = !is.null(fit$naive.var),
       warnings = note_warnings(paste0(data_name, ties), cap$warnings))
}

# survfit(multi-state coxph, newdata): predicted state occupation for new
# patients (survival 3.5-3 gives no standard errors for these).
# With start_time and initial (a state): every new patient is in `initial` at
# start_time, i.e. the transition probabilities P_initial,.(s, t | x)
# (survfit's start.time and p0 = the unit vector of that state).
pred_case <- function(long, data_name, covariates, states, newdata, shared_baseline = NULL,
                      start_time = NULL, initial = NULL) {
  long$to <- factor(long$to, levels = c("censor", states[-1]))
  long$from <- factor(long$from, levels = states)
  f <- as.formula(paste("Surv(tstart, tstop, to) ~", paste(covariates, collapse = " + ")))
  if (!is.null(shared_baseline))
    f <- list(f, as.formula(paste(shared_baseline, "~ 1 / shared")))
  fit <- coxph(f, data = long, id = id, istate = from, ties = "breslow", control = CTRL)
  stopifnot(fit$method == "breslow")
  if (is.null(start_time)) {
    cap <- capture(survfit(fit, newdata = newdata))
    s1 <- survfit(fit, newdata = newdata, stype = 1)
  } else {
    p0 <- as.numeric(states == initial)
    cap <- capture(survfit(fit, newdata = newdata, start.time = start_time, p0 = p0))
    s1 <- survfit(fit, newdata = newdata, stype = 1, start.time = start_time, p0 = p0)
  }
  s <- cap$value
  stopifnot(is.null(s$std.err))
  list(data = data_name, call = "survfit(coxph(..., id = id, istate = from), newdata)",
       covariates = S(covariates), shared_baseline = shared_baseline,
       start_time = start_time, initial = initial,
       states = S(s$states), newdata = records(newdata),
       time = V(s$time),
       # stype 2 (default): p(t) = p(t-) expm(dA); stype 1: p(t-) (I + dA)
       pstate = lapply(seq_len(nrow(newdata)), function(i) M(s$pstate[, i, ])),
       pstate_stype1 = lapply(seq_len(nrow(newdata)), function(i) M(s1$pstate[, i, ])),
       cumhaz = lapply(seq_len(nrow(newdata)), function(i) M(s$cumhaz[, i, ])),
       warnings = note_warnings(paste0("pred_", data_name), cap$warnings))
}

# Does the origin change the hazard of the next state? The rows at risk of
# death (from mgus and from pcm) in one Cox model with an origin indicator and
# shared covariates, robust variance clustered on id (survkit's origin_effect).
origin_case <- function(long, data_name, target, origins, covariates) {
  rows <- long[long$from %in% origins, ]
  rows$status <- as.integer(rows$to == target)
  for (o in origins[-1]) rows[[paste0("from_", o)]] <- as.integer(rows$from == o)
  terms <- c(paste0("from_", origins[-1]), covariates)
  f <- as.formula(paste("Surv(tstart, tstop, status) ~", paste(terms, collapse = " + ")))
  cap <- capture(coxph(f, data = rows, ties = "breslow", cluster = id, control = CTRL))
  fit <- cap$value
  b <- coef(fit)[paste0("from_", origins[-1])]
  V <- fit$var[seq_along(b), seq_along(b), drop = FALSE]
  list(data = data_name, target = target, origins = S(origins), covariates = S(covariates),
       call = paste(deparse(f), collapse = ""), coef = D(coef(fit)),
       se = V(sqrt(diag(fit$var))), wald = c(chi2(as.numeric(t(b) %*% solve(V) %*% b),
                                                    length(b))),
       warnings = note_warnings(paste0("origin_", data_name), cap$warnings))
}

# ---------------------------------------------------------------- run
mg <- ms_mgus2()
mg_wide <- write_data(mg$wide, "ms_mgus2_wide")
mg_long <- write_data(mg$long, "ms_mgus2_long")
ro <- ms_rotterdam()
ro_wide <- write_data(ro$wide, "ms_rotterdam_wide")
ro_long <- write_data(ro$long, "ms_rotterdam_long")
sy <- ms_synthetic()
sy_long <- write_data(sy$long, "ms_synth_long")
# Mixed starting states: every tenth patient whose first move is free -> bone
# is taken as already in bone at time 0 (the first interval dropped), so that
# p0 is not degenerate and its own influence enters the standard errors.
mixed <- sy$long
first_bone <- with(mixed, id %% 10 == 0 & from == "free" & to == "bone")
later <- which(mixed$id %in% mixed$id[first_bone] & mixed$from == "bone")
mixed$tstart[later] <- 0
mixed <- mixed[!first_bone, ]
rownames(mixed) <- NULL
sy_mixed <- write_data(mixed, "ms_synth_mixed")

st_mg <- c("mgus", "pcm", "death")
st_ro <- c("primary", "relapse", "death")
st_sy <- c("free", "bone", "liver", "death")

cases <- list(
  aj_mgus2 = aj_case(mg_long, "ms_mgus2_long.csv", NULL, st_mg),
  aj_mgus2_by_male = aj_case(mg_long, "ms_mgus2_long.csv", "male", st_mg),
  aj_rotterdam = aj_case(ro_long, "ms_rotterdam_long.csv", NULL, st_ro),
  aj_rotterdam_by_hormon = aj_case(ro_long, "ms_rotterdam_long.csv", "hormon", st_ro),
  aj_synth = aj_case(sy_long, "ms_synth_long.csv", NULL, st_sy),
  aj_synth_by_x2 = aj_case(sy_long, "ms_synth_long.csv", "x2", st_sy),
  aj_synth_mixed_start = aj_case(sy_mixed, "ms_synth_mixed.csv", NULL, st_sy,
                                 influence = TRUE),
  # landmark Aalen-Johansen: relapse-free at 5 years (1826.5 days; no event
  # falls on that time) and in relapse at 5 years
  aj_rotterdam_landmark_primary = aj_case(ro_long, "ms_rotterdam_long.csv", NULL, st_ro,
                                          start_time = 1826.5, landmark = "primary"),
  aj_rotterdam_landmark_relapse = aj_case(ro_long, "ms_rotterdam_long.csv", NULL, st_ro,
                                          start_time = 1826.5, landmark = "relapse"),
  # Markov transition probabilities P(relapse -> ., 5 years, t) from everyone
  aj_rotterdam_markov_from_relapse = aj_case(ro_long, "ms_rotterdam_long.csv", NULL, st_ro,
                                             start_time = 1826.5, p0 = c(0, 1, 0)),
  cox_mgus2 = cox_case(mg_long, "ms_mgus2_long.csv", c("age", "male"), st_mg),
  cox_mgus2_default_ties = cox_case(mg_long, "ms_mgus2_long.csv", c("age", "male"), st_mg,
                                    ties = NULL),
  cox_mgus2_shared_age = cox_case(mg_long, "ms_mgus2_long.csv", "male", st_mg,
                                  shared = list(age = "1:3 + 2:3")),
  cox_rotterdam = cox_case(ro_long, "ms_rotterdam_long.csv", c("age", "nodes", "hormon"),
                           st_ro),
  cox_synth = cox_case(sy_long, "ms_synth_long.csv", c("x1", "x2"), st_sy),
  origin_mgus2_death = origin_case(mg_long, "ms_mgus2_long.csv", "death", c("mgus", "pcm"),
                                   c("age", "male")),
  pred_mgus2 = pred_case(mg_long, "ms_mgus2_long.csv", c("age", "male"), st_mg,
                         data.frame(age = c(60, 75, 85), male = c(0, 1, 0))),
  # shared baselines (R's "1:3 + 2:3 ~ 1 / shared"): death from mgus and from pcm
  # (death from primary and from relapse) on one baseline hazard, proportional
  cox_mgus2_shared_baseline = cox_case(mg_long, "ms_mgus2_long.csv", c("age", "male"), st_mg,
                                       shared_baseline = "1:3 + 2:3"),
  cox_rotterdam_shared_baseline = cox_case(ro_long, "ms_rotterdam_long.csv",
                                           c("age", "nodes", "hormon"), st_ro,
                                           shared_baseline = "1:3 + 2:3"),
  pred_mgus2_shared_baseline = pred_case(mg_long, "ms_mgus2_long.csv", c("age", "male"), st_mg,
                                         data.frame(age = c(60, 75, 85), male = c(0, 1, 0)),
                                         shared_baseline = "1:3 + 2:3"),
  pred_synth = pred_case(sy_long, "ms_synth_long.csv", c("x1", "x2"), st_sy,
                         data.frame(x1 = c(-1, 0, 1.5), x2 = c(0, 1, 1))),
  # transition probabilities from a later time: in pcm at 60 months
  pred_mgus2_from_pcm_at_60 = pred_case(mg_long, "ms_mgus2_long.csv", c("age", "male"), st_mg,
                                        data.frame(age = c(60, 75), male = c(0, 1)),
                                        start_time = 60, initial = "pcm"),
  # and from a relapse state of the synthetic cohort at time 2
  pred_synth_from_bone_at_2 = pred_case(sy_long, "ms_synth_long.csv", c("x1", "x2"), st_sy,
                                        data.frame(x1 = c(-1, 1.5), x2 = c(0, 1)),
                                        start_time = 2, initial = st_sy[2])
)

write_results(cases, "multistate",
  "Multi-state survfit (Aalen-Johansen, infinitesimal-jackknife std.err) and multi-state coxph (id=, istate=) on mgus2, rotterdam and a synthetic multi-organ cohort")
if (length(ALL_WARNINGS)) print(ALL_WARNINGS)
