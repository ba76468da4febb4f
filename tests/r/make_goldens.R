# Golden values for msme_stats.survey from R `survey` (Lumley).
#
# Run from the repository root:  Rscript tests/r/make_goldens.R   (or `make goldens`)
# Reads  tests/goldens/design_worked.csv, tests/goldens/design_pooled.csv
#        (written by tests/r/make_designs.py) and, if present, data/wbes_synthetic/*_synthetic.dta
# Writes tests/goldens/survey_goldens.csv, tests/goldens/wbes_synthetic_goldens.csv,
#        tests/goldens/VERSIONS.txt
#
# Every design is declared as Stata `svyset idstd [pw=w], strata(strata)` would be:
#   svydesign(ids = ~1, strata = ~sid, weights = ~w), sid = interaction(survey, strata).
# Domains use svyby()/subset() on the full design (= msme_stats domain_mode="full_design",
# Stata subpop()); "drop" re-declares the design on the rows used (domain, scope, non-missing).
# survey <= 4.2 uses centre 0 for lonely.psu = "adjust" (adjust_center = "zero" in msme_stats).
#
# Output columns (one row per statistic):
#   case, design, stat (mean|proportion|ratio|total), y, x, by ("a+b" or ""), where (column
#   name or ""), lonely (R name), domain_mode, ci (none|normal|t|logit|beta), level,
#   ci_df (df passed to the CI; Inf = normal), key (by values joined with "|"; "" = whole),
#   estimate, se, ci_low, ci_high, source (R function that produced the CI)
suppressPackageStartupMessages(library(survey))

fmt <- function(x) vapply(as.numeric(x), function(v) format(v, digits = 17), "")
out <- list()
add <- function(df) out[[length(out) + 1]] <<- df

read_design <- function(path) {
  d <- read.csv(path, stringsAsFactors = FALSE, na.strings = "NA")
  if (!"strata" %in% names(d)) d$strata <- d$stratum
  d$sid <- interaction(d$survey, d$strata, drop = TRUE)
  d
}

declare <- function(d) svydesign(ids = ~1, strata = ~sid, weights = ~w, data = d)

keyof <- function(df, by) {
  if (length(by) == 0) return("")
  do.call(paste, c(lapply(by, function(b) as.character(df[[b]])), sep = "|"))
}

# msme_stats df rule under full_design: sum over the surveys touched by S of (firms - strata)
df_rule <- function(d, used) {
  per <- tapply(seq_len(nrow(d)), d$survey, function(i) length(i) - length(unique(d$sid[i])))
  sum(per[unique(d$survey[used])])
}

# used rows S for a statistic (domain value `val` of `by`, scope, non-missing)
used_rows <- function(d, stat, y, x, by, where, val) {
  u <- !is.na(d[[y]])
  if (stat == "ratio") u <- u & !is.na(d[[x]])
  if (where != "") u <- u & d[[where]] == 1
  if (length(by) > 0) {
    k <- keyof(d, by)
    u <- u & !is.na(k) & k == val
    for (b in by) u <- u & !is.na(d[[b]])
  }
  u
}

stat_fun <- function(stat) switch(stat, mean = svymean, proportion = svymean,
                                  total = svytotal, ratio = svyratio)

est_se <- function(obj, stat) {
  if (stat == "ratio") c(coef(obj), SE(obj)) else c(coef(obj), SE(obj))
}

row <- function(case, design, stat, y, x, by, where, lonely, mode, key, est, se,
                ci = "none", level = 0.95, ci_df = NA, lo = NA, hi = NA, source = "") {
  data.frame(case = case, design = design, stat = stat, y = y, x = ifelse(is.na(x), "", x),
             by = paste(by, collapse = "+"), where = where, lonely = lonely,
             domain_mode = mode, ci = ci, level = level, ci_df = fmt(ci_df), key = key,
             estimate = fmt(as.numeric(est)), se = fmt(as.numeric(se)),
             ci_low = fmt(as.numeric(lo)), ci_high = fmt(as.numeric(hi)),
             source = source, stringsAsFactors = FALSE)
}

# ---- point estimates and SEs, full design -------------------------------------------------
full_design_case <- function(case, dname, d, stat, y, x, by, where, lonely) {
  options(survey.lonely.psu = lonely)
  des <- declare(d)
  if (where != "") des <- subset(des, d[[where]] == 1)  # Stata subpop(): full design kept
  fy <- as.formula(paste0("~", y))
  if (length(by) == 0) {
    obj <- if (stat == "ratio") svyratio(fy, as.formula(paste0("~", x)), des, na.rm = TRUE)
           else stat_fun(stat)(fy, des, na.rm = TRUE)
    es <- est_se(obj, stat)
    add(row(case, dname, stat, y, x, by, where, lonely, "full_design", "", es[1], es[2]))
  } else {
    fb <- as.formula(paste0("~", paste(by, collapse = "+")))
    b <- if (stat == "ratio") svyby(fy, fb, des, svyratio, denominator = as.formula(paste0("~", x)),
                                    na.rm = TRUE, keep.var = TRUE)
         else svyby(fy, fb, des, stat_fun(stat), na.rm = TRUE, keep.var = TRUE)
    keys <- keyof(b, by)
    ok <- !grepl("NA", keys)  # svyby also reports a domain for missing `by` values: skip it
    cf <- coef(b); s <- SE(b)
    for (i in which(ok)) add(row(case, dname, stat, y, x, by, where, lonely, "full_design",
                                 keys[i], cf[i], s[i]))
  }
}

# ---- drop mode: the design is re-declared on the rows used ---------------------------------
drop_case <- function(case, dname, d, stat, y, x, by, where, lonely) {
  options(survey.lonely.psu = lonely)
  vals <- if (length(by) == 0) "" else sort(unique(na.omit(keyof(d, by)[complete.cases(d[by])])))
  for (v in vals) {
    u <- used_rows(d, stat, y, x, by, where, v)
    if (!any(u)) next
    dd <- d[u, ]
    dd$sid <- droplevels(dd$sid)
    des <- declare(dd)
    fy <- as.formula(paste0("~", y))
    obj <- if (stat == "ratio") svyratio(fy, as.formula(paste0("~", x)), des)
           else stat_fun(stat)(fy, des)
    es <- est_se(obj, stat)
    add(row(case, dname, stat, y, x, by, where, lonely, "drop", v, es[1], es[2]))
  }
}

# ---- confidence intervals -----------------------------------------------------------------
ci_cases <- function(case, dname, d, y, by, lonely, level = 0.95) {
  options(survey.lonely.psu = lonely)
  des <- declare(d)
  fy <- as.formula(paste0("~", y))
  vals <- if (length(by) == 0) "" else sort(unique(keyof(d, by)[complete.cases(d[by])]))
  for (v in vals) {
    u <- used_rows(d, "proportion", y, NA, by, "", v)
    dfv <- df_rule(d, u)
    dom <- if (v == "") des else subset(des, !is.na(keyof(d, by)) & keyof(d, by) == v)
    m <- svymean(fy, dom, na.rm = TRUE)
    # Wald, normal quantile: confint() default
    ci <- confint(m, level = level)
    add(row(case, dname, "proportion", y, NA, by, "", lonely, "full_design", v, coef(m), SE(m),
            "normal", level, Inf, ci[1], ci[2], "confint(svymean)"))
    # Wald, t with the design df
    ci <- confint(m, level = level, df = dfv)
    add(row(case, dname, "proportion", y, NA, by, "", lonely, "full_design", v, coef(m), SE(m),
            "t", level, dfv, ci[1], ci[2], "confint(svymean, df=)"))
    p <- coef(m)
    if (p > 0 && p < 1) {
      # logit: svyciprop -> svyglm(quasibinomial) Wald interval on the logit scale
      for (dd in c(dfv, Inf)) {
        cp <- svyciprop(fy, dom, method = "logit", level = level, df = dd, na.rm = TRUE)
        ci <- attr(cp, "ci")
        add(row(case, dname, "proportion", y, NA, by, "", lonely, "full_design", v, coef(m),
                SE(m), "logit", level, dd, ci[1], ci[2], "svyciprop(method='logit', df=)"))
        # the same interval from svyglm iterated to convergence (glm's default epsilon = 1e-8
        # leaves ~1e-8 relative error in the svyciprop bounds above)
        g <- svyglm(as.formula(paste0(y, " ~ 1")), dom, family = quasibinomial,
                    control = glm.control(epsilon = 1e-15, maxit = 100))
        ci <- as.numeric(plogis(confint(g, 1, level = level, method = "Wald", ddf = dd)))
        add(row(case, dname, "proportion", y, NA, by, "", lonely, "full_design", v, coef(m),
                SE(m), "logit_converged", level, dd, ci[1], ci[2],
                "svyglm(quasibinomial, epsilon=1e-15) + confint(ddf=)"))
      }
      # Korn-Graubard: the svyciprop(method = "beta") formula with n = firms used and
      # df = msme_stats df (svyciprop itself uses nrow(design) and degf(design); both are
      # equal to these on a whole design without missing values, see beta_whole below)
      for (dd in c(dfv, Inf)) {
        alpha <- 1 - level
        n.eff <- coef(m) * (1 - coef(m)) / vcov(m)
        n.eff <- n.eff * (qt(alpha / 2, sum(u) - 1) / qt(alpha / 2, dd))^2
        ci <- c(qbeta(alpha / 2, n.eff * p, n.eff * (1 - p) + 1),
                qbeta(1 - alpha / 2, n.eff * p + 1, n.eff * (1 - p)))
        add(row(case, dname, "proportion", y, NA, by, "", lonely, "full_design", v, coef(m),
                SE(m), "beta", level, dd, ci[1], ci[2], "svyciprop beta formula, n=|S|"))
      }
    }
  }
}

beta_whole <- function(case, dname, d, y, lonely, level = 0.95) {
  options(survey.lonely.psu = lonely)
  des <- declare(d)
  stopifnot(!anyNA(d[[y]]))
  fy <- as.formula(paste0("~", y))
  cp <- svyciprop(fy, des, method = "beta", level = level)
  m <- svymean(fy, des)
  ci <- attr(cp, "ci")
  add(row(case, dname, "proportion", y, NA, character(0), "", lonely, "full_design", "",
          coef(m), SE(m), "beta", level, degf(des), ci[1], ci[2], "svyciprop(method='beta')"))
}

# ---- the cases ----------------------------------------------------------------------------
lonely_opts <- c("certainty", "remove", "average", "adjust")

W <- read_design("tests/goldens/design_worked.csv")
P <- read_design("tests/goldens/design_pooled.csv")

for (lo in lonely_opts) {
  # METHODS §2.9.2 worked example
  for (spec in list(c("mean", "y", NA), c("proportion", "p", NA), c("ratio", "e", "x"),
                    c("total", "e", NA), c("total", "x", NA), c("total", "y", NA))) {
    full_design_case("worked", "worked", W, spec[1], spec[2], spec[3], character(0), "", lo)
    full_design_case("worked_by", "worked", W, spec[1], spec[2], spec[3], "domain", "", lo)
    drop_case("worked_drop", "worked", W, spec[1], spec[2], spec[3], character(0), "", lo)
    drop_case("worked_drop_by", "worked", W, spec[1], spec[2], spec[3], "domain", "", lo)
  }
  # pooled multi-survey design
  specs <- list(c("mean", "y", NA), c("proportion", "p", NA), c("ratio", "e", "x"),
                c("total", "y", NA), c("total", "x", NA))
  bys <- list(character(0), "survey", c("survey", "size"), c("survey", "emp"), "emp", "size")
  for (spec in specs) {
    for (by in bys) {
      full_design_case("pooled", "pooled", P, spec[1], spec[2], spec[3], by, "", lo)
    }
    full_design_case("pooled_where", "pooled", P, spec[1], spec[2], spec[3],
                     c("survey", "size"), "manuf", lo)
    full_design_case("pooled_where", "pooled", P, spec[1], spec[2], spec[3],
                     character(0), "manuf", lo)
    drop_case("pooled_drop", "pooled", P, spec[1], spec[2], spec[3], c("survey", "size"), "", lo)
    drop_case("pooled_drop", "pooled", P, spec[1], spec[2], spec[3], character(0), "", lo)
    drop_case("pooled_drop_where", "pooled", P, spec[1], spec[2], spec[3], "survey", "manuf", lo)
  }
}

# CIs (lonely = average = msme_stats default "scaled")
ci_cases("worked_ci", "worked", W, "p", character(0), "average")
ci_cases("worked_ci", "worked", W, "p", "domain", "average")
ci_cases("pooled_ci", "pooled", P, "p", c("survey", "size"), "average")
ci_cases("pooled_ci", "pooled", P, "p", "emp", "average")
ci_cases("pooled_ci", "pooled", P, "p", character(0), "average")
ci_cases("pooled_ci90", "pooled", P, "p", c("survey", "size"), "certainty", level = 0.90)
beta_whole("beta_whole", "pooled", P, "p_full", "average")
beta_whole("beta_whole", "pooled", P, "p_full", "certainty")
beta_whole("beta_whole90", "pooled", P, "p_full", "average", level = 0.90)


res <- do.call(rbind, out)
write.csv(res, "tests/goldens/survey_goldens.csv", row.names = FALSE, na = "NA")
cat(nrow(res), "golden rows written to tests/goldens/survey_goldens.csv\n")

# ---- bundled synthetic WBES sample (data/wbes_synthetic/*_synthetic.dta), read with haven ----
# pooled: survey = file stem (ISO3_YEAR); strata = interaction(survey, strata); d3c < 0 -> NA;
# weight wmedian; lonely.psu = "average"; domains survey x a6a and survey.
files <- sort(Sys.glob("data/wbes_synthetic/*_synthetic.dta"))
if (length(files) > 0) {
  suppressPackageStartupMessages(library(haven))
  parts <- lapply(files, function(f) {
    x <- haven::zap_labels(haven::read_dta(f))
    data.frame(survey = sub("_synthetic\\.dta$", "", basename(f)), strata = as.numeric(x$strata),
               w = as.numeric(x$wmedian), a6a = as.numeric(x$a6a), d3c = as.numeric(x$d3c),
               d2 = as.numeric(x$d2))
  })
  S <- do.call(rbind, parts)
  S$d3c[S$d3c < 0] <- NA
  S$d2[S$d2 < 0] <- NA
  S$exp_direct <- ifelse(is.na(S$d3c), NA, as.numeric(S$d3c >= 10))
  S$exports <- S$d2 * S$d3c / 100
  S$sid <- interaction(S$survey, S$strata, drop = TRUE)
  options(survey.lonely.psu = "average")
  des <- svydesign(ids = ~1, strata = ~sid, weights = ~w, data = S)
  srows <- list()
  for (by in list("survey", c("survey", "a6a"))) {
    fb <- as.formula(paste0("~", paste(by, collapse = "+")))
    res <- list(mean = svyby(~d3c, fb, des, svymean, na.rm = TRUE),
                proportion = svyby(~exp_direct, fb, des, svymean, na.rm = TRUE),
                ratio = svyby(~exports, fb, des, svyratio, denominator = ~d2, na.rm = TRUE))
    for (st in names(res)) {
      b <- res[[st]]
      srows[[length(srows) + 1]] <- data.frame(
        stat = st, by = paste(by, collapse = "+"), key = keyof(b, by),
        estimate = fmt(as.numeric(coef(b))), se = fmt(as.numeric(SE(b))),
        stringsAsFactors = FALSE)
    }
  }
  write.csv(do.call(rbind, srows), "tests/goldens/wbes_synthetic_goldens.csv", row.names = FALSE)
  write.csv(data.frame(file = basename(files), md5 = unname(tools::md5sum(files))),
            "tests/goldens/wbes_synthetic_md5.csv", row.names = FALSE)
  cat(length(files), "synthetic WBES files used for tests/goldens/wbes_synthetic_goldens.csv\n")
}

writeLines(c(
  paste("R:", R.version.string),
  paste("survey:", as.character(packageVersion("survey"))),
  paste("haven:", as.character(packageVersion("haven"))),
  paste("lonely.psu='adjust' centre:",
        if (packageVersion("survey") < "4.3") "zero (survey <= 4.2; msme_stats adjust_center='zero')"
        else "grand (survey >= 4.3; msme_stats adjust_center='grand')"),
  paste("survey.adjust.domain.lonely:", getOption("survey.adjust.domain.lonely")),
  paste("generated:", format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z"))
), "tests/goldens/VERSIONS.txt")

# contrasts, bounded (logit) intervals and design effects: a second script, run here so that
# `make goldens` (Rscript tests/r/make_goldens.R) regenerates every golden file
source("tests/r/make_goldens_contrast.R")
