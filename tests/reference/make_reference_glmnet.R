# make_reference_glmnet.R -- reference values for survkit.CoxNet (issue 16).
# Run from the repository root:  Rscript tests/reference/make_reference_glmnet.R
# Writes data/glmnet_*.csv and results/glmnet.json.
source(file.path("tests", "reference", "reference_helpers.R"))
suppressPackageStartupMessages(library(glmnet))
META$script <- "tests/reference/make_reference_glmnet.R"
META$glmnet <- as.character(packageVersion("glmnet"))
META$glmnet_control <- "thresh = 1e-14 (glmnet), coxph ridge: coxph.control(eps = 1e-12, ...)"
THRESH <- 1e-14

path_case <- function(fit, covs, extra = list()) {
  b <- as.matrix(coef(fit))
  c(list(covariates = S(covs), lambda = V(fit$lambda), coef = M(t(b)),
         deviance = V(deviance(fit)), nulldev = fit$nulldev,
         dev_ratio = V(fit$dev.ratio)), extra)
}

# -- lung: complete cases, numeric covariates; status recoded 0/1 -----------------
lung <- survival::lung
covs <- c("age", "sex", "ph.ecog", "ph.karno", "pat.karno", "meal.cal", "wt.loss")
lung <- lung[complete.cases(lung[, c("time", "status", covs)]), c("time", "status", covs)]
lung$status <- lung$status - 1L
set.seed(16)
lung$w <- round(runif(nrow(lung), 0.5, 2), 3)
lung$fold <- sample(rep(1:5, length.out = nrow(lung)))
lung <- write_data(lung, "glmnet_lung")
x <- as.matrix(lung[, covs]); y <- Surv(lung$time, lung$status)

cases <- list()
# 1. lasso, default lambda sequence (its length too: glmnet's early stop)
f1 <- glmnet(x, y, family = "cox", thresh = THRESH)
cases$lung_lasso <- path_case(f1, covs, list(data = "glmnet_lung", alpha = 1,
                                             given_lambda = FALSE))
# 2. elastic net, weights, penalty factors (age unpenalised), lambda.min.ratio
pf <- c(0, 1, 1, 2, 1, 1, 0.5)
f2 <- glmnet(x, y, family = "cox", alpha = 0.5, weights = lung$w, penalty.factor = pf,
             lambda.min.ratio = 0.01, nlambda = 30, thresh = THRESH)
cases$lung_enet_weights <- path_case(f2, covs, list(data = "glmnet_lung", alpha = 0.5,
    weights = "w", penalty_factor = V(pf), given_lambda = TRUE))
# 3. ridge path (alpha = 0) on given lambdas
f3 <- glmnet(x, y, family = "cox", alpha = 0, lambda = c(1, 0.3, 0.1, 0.03, 0.01),
             thresh = THRESH)
cases$lung_ridge <- path_case(f3, covs, list(data = "glmnet_lung", alpha = 0,
                                             given_lambda = TRUE))

# -- cross-validation with fixed folds ----------------------------------------------
# cv.glmnet's recipe (grouped deviance of Verweij & van Houwelingen; Harrell's C),
# fold by fold. glmnet's coxnet.deviance (Fortran loglike) differs from the Breslow
# partial likelihood of survival::coxph on some row subsets (folds 2, 4, 5 here, already
# at beta = 0), so the per-fold deviances are stored both ways: from coxph's Breslow
# log-likelihood (the definition) and from glmnet, with a flag per fold saying whether
# glmnet's training-row null deviance equals coxph's.
breslow_dev <- function(xx, yy, b) {
  wd <- table(yy[yy[, 2] == 1, 1]); lsat <- -sum(wd * log(wd))
  apply(b, 2, function(bk) {
    ll <- coxph(yy ~ xx, init = bk, ties = "breslow",
                control = coxph.control(iter.max = 0))$loglik[1]
    2 * (lsat - ll)
  })
}
K <- max(lung$fold); L <- length(f1$lambda)
raw_cox <- raw_glm <- raw_C <- matrix(NA, K, L); same_null <- logical(K)
for (k in seq_len(K)) {
  tr <- lung$fold != k
  fk <- glmnet(x[tr, ], y[tr], family = "cox", lambda = f1$lambda, thresh = THRESH)
  b <- as.matrix(coef(fk))
  ev <- sum(lung$status[!tr])
  raw_cox[k, ] <- (breslow_dev(x, y, b) - breslow_dev(x[tr, ], y[tr], b)) / ev
  raw_glm[k, ] <- (coxnet.deviance(x = x, y = y, beta = b) -
                   coxnet.deviance(x = x[tr, ], y = y[tr], beta = b)) / ev
  b0 <- matrix(0, ncol(x), 1)
  same_null[k] <- abs(coxnet.deviance(x = x[tr, ], y = y[tr], beta = b0) -
                      breslow_dev(x[tr, ], y[tr], b0)) < 1e-8
  pred <- x[!tr, ] %*% b
  raw_C[k, ] <- apply(pred, 2, function(p) Cindex(p, y[!tr]))
}
cv_case <- function(measure, raw) {
  cvf <- cv.glmnet(x, y, family = "cox", foldid = lung$fold, type.measure = measure,
                   lambda = f1$lambda, thresh = THRESH)
  list(data = "glmnet_lung", measure = measure, fold = "fold", lambda = V(cvf$lambda),
       cvm = V(cvf$cvm), cvsd = V(cvf$cvsd), lambda_min = cvf$lambda.min,
       lambda_1se = cvf$lambda.1se, nzero = V(cvf$nzero), fold_values = M(raw))
}
cases$cv_deviance <- cv_case("deviance", raw_glm)
cases$cv_deviance$fold_values_breslow <- M(raw_cox)
cases$cv_deviance$glmnet_null_equals_breslow <- I(same_null)
cases$cv_C <- cv_case("C", raw_C)

# -- ridge fits from survival::coxph(ridge(theta, scale = FALSE)) -------------------
# CoxNet(l1_ratio=0, standardize=False) at lambda minimises -loglik/sum(w) + lambda/2 |b|^2,
# i.e. coxph's ridge with theta = sum(w) * lambda. These carry the cases glmnet cannot:
# Efron ties, and strata and (start, stop] rows (glmnet 4.1.6's R-level cox.path returns
# solutions there that fail the lasso KKT conditions by up to 2.3x at thresh = 1e-14,
# checked with survival's score residuals; see docs/notes/issue-16.md).
# coxph stops on the relative change of the log-likelihood; 1e-12 leaves ~1e-6 in
# the coefficients of the (start, stop] case, so the ridge fits iterate further
RIDGE_CTRL <- coxph.control(eps = 1e-15, toler.chol = 1e-15, iter.max = 200)
META$ridge_control <- "coxph.control(eps = 1e-15, toler.chol = 1e-15, iter.max = 200)"
ridge_case <- function(data, name, formula, covs, lam, ties, extra = list()) {
  theta <- nrow(data) * lam
  rhs <- paste0("ridge(", paste(covs, collapse = ", "), ", theta = ", theta, ", scale = FALSE)")
  f <- as.formula(paste(formula, "~", rhs, extra$strata_term))
  fr <- coxph(f, data = data, ties = ties, control = RIDGE_CTRL)
  list(data = name, lambda = lam, theta = theta, ties = ties, covariates = S(covs),
       coef = V(coef(fr)), loglik = V(fr$loglik), penalty = V(fr$penalty),
       strata = extra$strata, entry = extra$entry)
}
cases$ridge_efron <- ridge_case(lung, "glmnet_lung", "Surv(time, status)", covs, 0.05, "efron")
cases$ridge_breslow <- ridge_case(lung, "glmnet_lung", "Surv(time, status)", covs, 0.05, "breslow")
rot <- survival::rotterdam[, c("rtime", "recur", "age", "meno", "grade", "nodes", "pgr",
                               "er", "hormon", "chemo")]
rot$rtime <- as.numeric(rot$rtime)
rot <- write_data(rot, "glmnet_rotterdam")
rcovs <- c("age", "meno", "grade", "nodes", "pgr", "er", "hormon")
cases$ridge_strata_efron <- ridge_case(rot, "glmnet_rotterdam", "Surv(rtime, recur)", rcovs,
    0.01, "efron", list(strata = "chemo", strata_term = "+ strata(chemo)"))
heart <- survival::heart
heart$transplant <- as.integer(heart$transplant) - 1L
heart <- heart[, c("start", "stop", "event", "age", "year", "surgery", "transplant")]
heart <- write_data(heart, "glmnet_heart")
hcovs <- c("age", "year", "surgery", "transplant")
cases$ridge_counting_breslow <- ridge_case(heart, "glmnet_heart", "Surv(start, stop, event)",
    hcovs, 0.02, "breslow", list(entry = "start"))

write_results(cases, "glmnet", "glmnet 4.1 Cox paths (lasso, elastic net with weights and penalty factors, ridge), cv.glmnet fold by fold with fixed folds, and ridge fits from survival::coxph (Efron, strata, (start, stop])")
