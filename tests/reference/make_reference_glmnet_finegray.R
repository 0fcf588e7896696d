# make_reference_glmnet_finegray.R -- reference values for survkit.FineGrayNet (issue 16).
# Run from the repository root:  Rscript tests/reference/make_reference_glmnet_finegray.R
# Writes data/glmnet_finegray_mgus2.csv and results/glmnet_finegray.json.
#
# The penalised Fine-Gray objective (FineGrayNet) is
#   -logPL(b) / n + lambda * sum_j pf_j (alpha |b_j| s_j + (1 - alpha) (b_j s_j)^2 / 2)
# with logPL the Fine-Gray log pseudo-likelihood, n the number of subjects and s_j the
# standard deviation of covariate j over the subjects (divisor n).  With
# censoring_ties = "finegray", logPL is the weighted Breslow partial likelihood of
# survival::coxph on survival::finegray() output, which is what R supplies here:
#   * unpenalised: coxph on finegray output; cmprsk::crr (crr's censoring-tie convention);
#   * ridge: coxph(ridge(theta = n * lambda, scale = FALSE)) on finegray output;
#   * lasso / elastic net along a path: the exact KKT solution, computed from survival's
#     own log-likelihood, score and information (coxph(init = b, iter.max = 0)) by Newton
#     steps on the active set with the signs fixed, active set updated until the KKT
#     conditions of every covariate hold to 1e-10 (checked here; the script stops if not).
# glmnet(family = "cox") on the finegray output was tried first (glmnet accepts
# Surv(fgstart, fgstop, fgstatus) with weights = fgwt), but glmnet 4.1.6's R-level
# cox.path used for (start, stop] data returns solutions far from optimal on these data
# ((gradient / sd) / lambda of a non-zero coefficient from -1.2 to -45 instead of +-1,
# with "cox.fit: algorithm did not converge", at thresh = 1e-14, also with
# glmnet.control(mxitnr = 1000)); the script prints that check.
# glmnet would also put sum(fgwt) over the expanded rows in place of n and standardise
# with the expanded rows' weights, so its lambdas are FineGrayNet's times n / sum(fgwt)
# only up to that standardisation.
source(file.path("tests", "reference", "reference_helpers.R"))
suppressPackageStartupMessages(library(glmnet))
META$script <- "tests/reference/make_reference_glmnet_finegray.R"
META$glmnet <- as.character(packageVersion("glmnet"))
META$kkt_tolerance <- "active-set Newton until max KKT violation / lambda < 1e-10"

mg <- survival::mgus2
mg <- mg[complete.cases(mg[, c("age", "sex", "hgb", "creat", "mspike")]), ]
d <- data.frame(etime = ifelse(mg$pstat == 0, mg$futime, mg$ptime),
                event = ifelse(mg$pstat == 1, 1L, ifelse(mg$death == 1, 2L, 0L)),
                age = mg$age, male = as.integer(mg$sex == "M"),
                hgb = mg$hgb, creat = mg$creat, mspike = mg$mspike)
set.seed(1616)
d$z1 <- round(rnorm(nrow(d)), 3)   # pure noise: the lasso should keep these at 0
d$z2 <- round(rnorm(nrow(d)), 3)
d <- write_data(d, "glmnet_finegray_mgus2")
covs <- c("age", "male", "hgb", "creat", "mspike", "z1", "z2")
n <- nrow(d)
sdx <- apply(as.matrix(d[, covs]), 2, function(v) sqrt(mean((v - mean(v))^2)))

d$ev <- factor(d$event, 0:2, c("censor", "pcm", "death"))
fg <- finegray(Surv(etime, ev) ~ ., data = d[, c("etime", "ev", covs)], etype = "pcm")
x <- as.matrix(fg[, covs])
y <- Surv(fg$fgstart, fg$fgstop, fg$fgstatus)
wt <- fg$fgwt

# survival's log pseudo-likelihood, score and inverse information at b (no iteration)
at <- function(b) {
  f <- coxph(y ~ x, weights = wt, init = b, ties = "breslow",
             control = coxph.control(iter.max = 0))
  list(loglik = f$loglik[1], score = colSums(residuals(f, "score", weighted = TRUE)),
       info = solve(f$var))
}

# gradient of the objective's smooth part plus the ridge part, for the KKT conditions
kkt <- function(b, lam, alpha, pf) {
  u <- at(b)$score / n                         # d(logPL / n) / d b
  need <- lam * pf * (alpha * sdx * sign(b) + (1 - alpha) * sdx^2 * b)
  viol <- ifelse(b != 0, abs(u - need), pmax(abs(u) - lam * alpha * pf * sdx, 0))
  list(u = u, viol = viol / lam)
}

solve_lambda <- function(b, lam, alpha, pf) {
  for (outer in 1:100) {
    act <- which(b != 0 | pf == 0)
    s <- sign(b)
    for (it in seq_len(if (length(act)) 100 else 0)) {  # Newton on the active set, signs fixed
      a <- at(b)
      g <- a$score / n - lam * pf * (alpha * sdx * s + (1 - alpha) * sdx^2 * b)
      H <- a$info / n + diag(lam * (1 - alpha) * pf * sdx^2, length(b))
      step <- rep(0, length(b))
      step[act] <- solve(H[act, act, drop = FALSE], g[act])
      bn <- b + step
      crossed <- act[pf[act] > 0 & s[act] != 0 & sign(bn[act]) != s[act]]
      if (length(crossed)) {                   # a coefficient reached 0: stop there, drop it
        ts <- b[crossed] / (b[crossed] - bn[crossed])
        i <- which.min(ts)
        b <- b + ts[i] * step
        b[crossed[i]] <- 0
        break
      }
      b <- bn
      if (max(abs(step)) < 1e-13) break
    }
    k <- kkt(b, lam, alpha, pf)
    add <- which(b == 0 & pf > 0 & k$viol > 1e-10)
    if (!length(add) && max(k$viol) < 1e-10) return(b)
    if (length(add)) {                         # the worst violator enters with its sign
      j <- add[which.max(k$viol[add])]
      s_j <- sign(k$u[j])
      b[j] <- s_j * 1e-8
    }
  }
  stop("active-set Newton did not reach the KKT conditions at lambda = ", lam)
}

path_case <- function(alpha, pf, ratios) {
  u0 <- at(rep(0, length(covs)))$score / n
  # lambda_max: every penalised coefficient 0 (no unpenalised covariates in these cases)
  lmax <- max(abs(u0 / sdx)[pf > 0] / pf[pf > 0]) / max(alpha, 1e-3)
  lam <- lmax * ratios
  b <- rep(0, length(covs))
  B <- matrix(0, length(lam), length(covs)); ll <- numeric(length(lam)); worst <- 0
  for (k in seq_along(lam)) {
    b <- solve_lambda(b, lam[k], alpha, pf)
    B[k, ] <- b; ll[k] <- at(b)$loglik
    worst <- max(worst, kkt(b, lam[k], alpha, pf)$viol)
  }
  cat(sprintf("alpha = %g: max KKT violation / lambda over the path %.2e\n", alpha, worst))
  list(alpha = alpha, penalty_factor = V(pf), lambda_max = lmax, lambda = V(lam),
       coef = M(B), loglik = V(ll), max_kkt_violation = worst)
}

cases <- list()
cases$covariates <- S(covs)
pf1 <- rep(1, length(covs)); pf1 <- pf1 * length(pf1) / sum(pf1)
cases$lasso_finegray <- path_case(1, pf1, c(1, 0.7, 0.4, 0.2, 0.1, 0.05, 0.02, 0.01, 0.001))
pf2 <- c(1, 1, 2, 1, 1, 1, 0.5); pf2 <- pf2 * length(pf2) / sum(pf2)
cases$enet_finegray <- path_case(0.5, pf2, c(0.8, 0.3, 0.1, 0.03, 0.003))

ridge_fit <- function(lam) {
  rhs <- paste0("ridge(", paste(covs, collapse = ", "), ", theta = ", n * lam,
                ", scale = FALSE)")
  f <- coxph(as.formula(paste("Surv(fgstart, fgstop, fgstatus) ~", rhs)), data = fg,
             weights = fgwt, ties = "breslow",
             control = coxph.control(eps = 1e-15, toler.chol = 1e-15, iter.max = 200))
  list(lambda = lam, theta = n * lam, coef = V(coef(f)), loglik = V(f$loglik),
       penalty = V(f$penalty))
}
cases$ridge_finegray <- list(ridge_fit(0.05), ridge_fit(0.005))

full <- coxph(y ~ x, weights = wt, ties = "breslow", control = CTRL)
cases$unpenalised_finegray <- list(coef = V(coef(full)), loglik = V(full$loglik))
cr <- crr(d$etime, d$event, as.matrix(d[, covs]), failcode = 1, cencode = 0,
          gtol = CRR_GTOL, maxiter = CRR_MAXITER)
cases$unpenalised_crr <- list(coef = V(cr$coef), loglik = cr$loglik)
cat("finegray vs crr convention, unpenalised coefficients (relative):",
    format(max(abs(coef(full) / cr$coef - 1)), digits = 3), "\n")

# glmnet on the finegray output, for the record (see the header): glmnet's own objective
# (weights fgwt normalised, columns standardised with those weights) on its own path;
# at a solution (gradient / sd) / lambda of every non-zero coefficient is exactly +-1
glmnet.control(mxitnr = 1000)
g <- glmnet(x, y, family = "cox", weights = wt, nlambda = 20, thresh = 1e-14)
gb <- as.matrix(coef(g))
sdw <- apply(x, 2, function(v) { p <- wt / sum(wt); sqrt(sum(p * (v - sum(p * v))^2)) })
for (k in c(5, 10, 15)[c(5, 10, 15) <= length(g$lambda)]) {
  u <- at(gb[, k])$score / sum(wt)
  r <- (u / sdw / g$lambda[k])[gb[, k] != 0]
  cat(sprintf("glmnet on finegray output, lambda %.3g: gradient/lambda of non-zero coefs %s\n",
              g$lambda[k], paste(format(r, digits = 3), collapse = " ")))
}
glmnet.control(factory = TRUE)

write_results(cases, "glmnet_finegray",
  "Penalised Fine-Gray on mgus2 (+ 2 noise covariates): exact lasso / elastic-net KKT solutions and ridge fits from survival::coxph on survival::finegray output; unpenalised coxph on finegray output and cmprsk::crr")
