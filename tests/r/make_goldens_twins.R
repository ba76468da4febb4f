# Golden values on the WBES format twins (tests/fixtures/wbes_twins/*.dta) from R `survey`.
#
# Run from the repository root:  Rscript tests/r/make_goldens_twins.R   (part of `make goldens`)
# Writes tests/goldens/wbes_twins_goldens.csv and tests/goldens/wbes_twins_md5.csv.
#
# Independent of msme_stats: haven::read_dta, the survey id written out by hand from the file
# name, negative WBES codes (-9 ... -4) -> NA, and the pooled design of the three surveys
#   svydesign(ids = ~1, strata = ~interaction(survey, strata), weights = ~wmedian)
# with options(survey.lonely.psu = "average") (= msme_stats lonely_psu = "scaled", its default).
# Statistics (svyby over survey and survey x a6a, na.rm = TRUE: domains of the full design):
#   TR5  = svymean(d3c)                       (% of sales exported directly)
#   TR16 = svymean(d3c >= 10)                 (share of firms, 0-1; msme_stats reports %)
#   TR17 = svymean(d3b + d3c >= 10), NA when either share is NA (partial_missing = "strict")
#   TR1  = svymean(d4)                        (days to clear direct exports)
suppressPackageStartupMessages({library(survey); library(haven)})

fmt <- function(x) vapply(as.numeric(x), function(v) format(v, digits = 17), "")
ids <- c("Bolivia-2017-full-data.dta" = "BOL_2017", "Kenya-2018-full-data.dta" = "KEN_2018",
         "Turkey-2019-full-data.dta" = "TUR_2019")
files <- file.path("tests/fixtures/wbes_twins", names(ids))
neg_na <- function(v) { v <- as.numeric(v); v[!is.na(v) & v < 0] <- NA; v }
parts <- lapply(seq_along(files), function(i) {
  x <- haven::zap_labels(haven::read_dta(files[i]))
  data.frame(survey = unname(ids[i]), strata = as.numeric(x$strata), w = as.numeric(x$wmedian),
             a6a = as.numeric(x$a6a), d3b = neg_na(x$d3b), d3c = neg_na(x$d3c), d4 = neg_na(x$d4))
})
S <- do.call(rbind, parts)
S$tr16 <- ifelse(is.na(S$d3c), NA, as.numeric(S$d3c >= 10))
S$tr17 <- ifelse(is.na(S$d3c) | is.na(S$d3b), NA, as.numeric(S$d3b + S$d3c >= 10))
S$sid <- interaction(S$survey, S$strata, drop = TRUE)
options(survey.lonely.psu = "average")
des <- svydesign(ids = ~1, strata = ~sid, weights = ~w, data = S)
keyof <- function(df, by) do.call(paste, c(lapply(by, function(b) as.character(df[[b]])), sep = "|"))
rows <- list()
for (by in list("survey", c("survey", "a6a"))) {
  fb <- as.formula(paste0("~", paste(by, collapse = "+")))
  for (ind in c("TR5", "TR16", "TR17", "TR1")) {
    y <- c(TR5 = "d3c", TR16 = "tr16", TR17 = "tr17", TR1 = "d4")[[ind]]
    b <- svyby(as.formula(paste0("~", y)), fb, des, svymean, na.rm = TRUE)
    n <- aggregate(S[[y]], S[by], function(v) sum(!is.na(v)))
    n <- n[match(keyof(b, by), keyof(n, by)), "x"]
    rows[[length(rows) + 1]] <- data.frame(
      indicator = ind, by = paste(by, collapse = "+"), key = keyof(b, by), n = n,
      estimate = fmt(coef(b)), se = fmt(SE(b)), stringsAsFactors = FALSE)
  }
}
res <- do.call(rbind, rows)
write.csv(res, "tests/goldens/wbes_twins_goldens.csv", row.names = FALSE)
write.csv(data.frame(file = basename(files), md5 = unname(tools::md5sum(files))),
          "tests/goldens/wbes_twins_md5.csv", row.names = FALSE)
cat(nrow(res), "golden rows written to tests/goldens/wbes_twins_goldens.csv\n")
