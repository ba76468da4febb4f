# Golden values for msme_stats contrasts, bounded (logit) intervals and design effects, from
# R `survey` (Lumley). Run from the repository root (make_goldens.R sources this file, so
# `make goldens` runs it):  Rscript tests/r/make_goldens_contrast.R
#
# Reads  tests/goldens/design_pooled.csv (written by tests/r/make_designs.py)
# Writes tests/goldens/contrast_goldens.csv   (svyby(covmat=TRUE) + svycontrast)
#        tests/goldens/interval_goldens.csv   (logit interval of a bounded mean / ratio)
#        tests/goldens/deff_goldens.csv       (svymean/svytotal/svyratio deff=TRUE / "replace")
#
# Design as in make_goldens.R: svydesign(ids=~1, strata=~sid, weights=~w), sid =
# interaction(survey, strata). A bounded variable yb = pmin(y, 100) (a percentage) is derived
# here and in the Python test the same way.
#
# Contrasts: for each `by` group, the design is restricted (subset(), which keeps the full
# design's PSU counts per stratum) to the firms of the two compared domains with the
# variable(s) present, then svyby(..., covmat=TRUE) and svycontrast(c(1, -1)). On that
# restricted design lonely.psu = "average" scales by the strata of the two domains, the
# msme_stats rule. The p-value uses the msme_stats df rule (sum over the surveys touched of
# firms - strata of the full design).
suppressPackageStartupMessages(library(survey))

fmt <- function(x) vapply(as.numeric(x), function(v) format(v, digits = 17), "")

P <- read.csv("tests/goldens/design_pooled.csv", stringsAsFactors = FALSE, na.strings = "NA")
P$sid <- interaction(P$survey, P$strata, drop = TRUE)
P$yb <- pmin(P$y, 100)
declare <- function(d) svydesign(ids = ~1, strata = ~sid, weights = ~w, data = d)
df_rule <- function(d, used) {
  per <- tapply(seq_len(nrow(d)), d$survey, function(i) length(i) - length(unique(d$sid[i])))
  sum(per[unique(d$survey[used])])
}

# ---- contrasts ----------------------------------------------------------------------------
crow <- list()
contrast_case <- function(stat, y, x, between, la, lb, by, lonely) {
  options(survey.lonely.psu = lonely)
  d <- P
  ok <- !is.na(d[[y]]) & !is.na(d[[between]]) & as.character(d[[between]]) %in% c(la, lb)
  if (stat == "ratio") ok <- ok & !is.na(d[[x]])
  groups <- if (by == "") "" else sort(unique(d[[by]]))
  des <- declare(d)
  for (g in groups) {
    u <- ok & (if (by == "") TRUE else d[[by]] == g)
    if (!any(u & as.character(d[[between]]) == la) || !any(u & as.character(d[[between]]) == lb)) next
    sub <- subset(des, u)
    fy <- as.formula(paste0("~", y))
    fb <- as.formula(paste0("~", between))
    b <- switch(stat,
      mean = svyby(fy, fb, sub, svymean, covmat = TRUE),
      proportion = svyby(fy, fb, sub, svymean, covmat = TRUE),
      total = svyby(fy, fb, sub, svytotal, covmat = TRUE),
      ratio = svyby(fy, fb, sub, svyratio, denominator = as.formula(paste0("~", x)), covmat = TRUE))
    lv <- as.character(b[[between]])
    cvec <- ifelse(lv == la, 1, ifelse(lv == lb, -1, 0))
    sc <- svycontrast(b, cvec)
    est <- coef(b)
    dfv <- df_rule(d, u)
    tt <- as.numeric(coef(sc)) / as.numeric(SE(sc))
    crow[[length(crow) + 1]] <<- data.frame(
      stat = stat, y = y, x = ifelse(is.na(x), "", x), between = between, level_a = la,
      level_b = lb, by = by, key = as.character(g), lonely = lonely,
      estimate_a = fmt(est[lv == la]), estimate_b = fmt(est[lv == lb]),
      difference = fmt(coef(sc)), se = fmt(SE(sc)), df = dfv,
      p_value = fmt(2 * pt(-abs(tt), dfv)), stringsAsFactors = FALSE)
  }
}
for (lo in c("average", "certainty", "adjust")) {
  for (spec in list(c("mean", "y", NA), c("proportion", "p", NA), c("ratio", "e", "x"),
                    c("total", "y", NA))) {
    contrast_case(spec[1], spec[2], spec[3], "manuf", "1", "0", "", lo)
    contrast_case(spec[1], spec[2], spec[3], "manuf", "1", "0", "survey", lo)
    contrast_case(spec[1], spec[2], spec[3], "size", "1", "3", "survey", lo)
    contrast_case(spec[1], spec[2], spec[3], "emp", "e1", "e3", "", lo)
  }
}
write.csv(do.call(rbind, crow), "tests/goldens/contrast_goldens.csv", row.names = FALSE)
cat(length(crow), "contrast golden rows written\n")

# ---- bounded intervals ------------------------------------------------------------------
irow <- list()
options(survey.lonely.psu = "average")
des <- declare(P)
for (by in c("", "survey")) {
  groups <- if (by == "") "" else sort(unique(P[[by]]))
  for (g in groups) {
    inb <- if (by == "") rep(TRUE, nrow(P)) else P[[by]] == g
    dom <- if (by == "") des else subset(des, inb)
    u <- inb & !is.na(P$yb)
    dfv <- df_rule(P, u)
    m <- svymean(~yb, dom, na.rm = TRUE)
    for (dd in c(dfv, Inf)) {
      # logit interval of the bounded mean: svyciprop(~I(yb/100), method = "logit") computed by
      # svyglm(quasibinomial) iterated to convergence (as the proportion goldens)
      domn <- subset(dom, !is.na(yb))
      g1 <- svyglm(I(yb / 100) ~ 1, domn, family = quasibinomial,
                   control = glm.control(epsilon = 1e-15, maxit = 100))
      ci <- 100 * as.numeric(plogis(confint(g1, 1, level = 0.95, method = "Wald", ddf = dd)))
      irow[[length(irow) + 1]] <- data.frame(
        stat = "mean", y = "yb", x = "", by = by, key = as.character(g), ci_df = fmt(dd),
        estimate = fmt(coef(m)), se = fmt(SE(m)), ci_low = fmt(ci[1]), ci_high = fmt(ci[2]),
        source = "svyglm(I(yb/100) ~ 1, quasibinomial) Wald on logit scale", stringsAsFactors = FALSE)
    }
    # ratio e/x (a share in [0, 1] here): svyratio, then the logit interval by formula
    r <- svyratio(~e, ~x, dom, na.rm = TRUE)
    ur <- inb & !is.na(P$e) & !is.na(P$x)
    dfr <- df_rule(P, ur)
    est <- as.numeric(coef(r)); se <- as.numeric(SE(r))
    if (est > 0 && est < 1) {
      q <- qt(0.975, dfr)
      ci <- plogis(qlogis(est) + c(-1, 1) * q * se / (est * (1 - est)))
      irow[[length(irow) + 1]] <- data.frame(
        stat = "ratio", y = "e", x = "x", by = by, key = as.character(g), ci_df = fmt(dfr),
        estimate = fmt(est), se = fmt(se), ci_low = fmt(ci[1]), ci_high = fmt(ci[2]),
        source = "svyratio + plogis(qlogis(r) +/- qt * se / (r (1 - r)))", stringsAsFactors = FALSE)
    }
  }
}
write.csv(do.call(rbind, irow), "tests/goldens/interval_goldens.csv", row.names = FALSE)
cat(length(irow), "interval golden rows written\n")

# ---- design effects ----------------------------------------------------------------------
drow <- list()
for (lo in c("average", "certainty")) {
  options(survey.lonely.psu = lo)
  des <- declare(P)
  for (dmode in c("TRUE", "replace")) {
    dv <- if (dmode == "TRUE") TRUE else "replace"
    for (by in c("", "survey+size")) {
      for (spec in list(c("mean", "y", NA), c("total", "y", NA), c("ratio", "e", "x"))) {
        st <- spec[1]
        if (by == "") {
          obj <- switch(st,
            mean = svymean(~y, des, na.rm = TRUE, deff = dv),
            total = svytotal(~y, des, na.rm = TRUE, deff = dv),
            ratio = svyratio(~e, ~x, des, na.rm = TRUE, deff = dv))
          keys <- ""
          dval <- as.numeric(deff(obj))
          est <- as.numeric(coef(obj)); se <- as.numeric(SE(obj))
        } else {
          fb <- ~survey + size
          obj <- switch(st,
            mean = svyby(~y, fb, des, svymean, na.rm = TRUE, deff = dv),
            total = svyby(~y, fb, des, svytotal, na.rm = TRUE, deff = dv),
            ratio = svyby(~e, fb, des, svyratio, denominator = ~x, na.rm = TRUE, deff = dv))
          keys <- paste(obj$survey, obj$size, sep = "|")
          dval <- as.numeric(obj[[grep("^DEff", names(obj))[1]]])  # deff() fails on "replace"
          est <- as.numeric(coef(obj)); se <- as.numeric(SE(obj))
        }
        drow[[length(drow) + 1]] <- data.frame(
          stat = st, y = spec[2], x = ifelse(is.na(spec[3]), "", spec[3]), by = by, key = keys,
          lonely = lo, deff_mode = dmode, estimate = fmt(est), se = fmt(se), deff = fmt(dval),
          stringsAsFactors = FALSE)
      }
    }
  }
}
write.csv(do.call(rbind, drow), "tests/goldens/deff_goldens.csv", row.names = FALSE, na = "NA")
cat(length(drow), "deff golden blocks written\n")
