# Reference thresholds and alarms for fangkong.sentinel.detection, computed by the R package
# surveillance itself (Debian's r-cran-surveillance 1.20.3 on R 4.2).
#
#   cd fangkong/sentinel/detection/reference && Rscript make_reference.R
#
# Writes, beside this script:
#   series.csv  the fixed input series (series,date,count), generated here with a fixed seed;
#   cases.csv   one row per case: case, method and params in fangkong's names (key=value;...);
#   <case>.csv  the package's result for the case: series,date,count,threshold,alarm for every
#               date in the package's range (threshold empty where the package gives NA).
# The Python tests (fangkong/sentinel/tests/test_detection_reference.py) run the same cases
# through fangkong.sentinel.detection.detect and compare; they need no R.

suppressPackageStartupMessages(library(surveillance))
stopifnot(packageVersion("surveillance") >= "1.20", packageVersion("surveillance") < "1.21")
RNGversion("4.2.0")
set.seed(20240601)

## ---- The fixed series --------------------------------------------------------------------
daily <- list()
day0 <- as.Date("2023-01-01")
n <- 400
t <- seq_len(n)
weekday <- c(1.2, 1, 1, 1, 1, 0.8, 0.7)[(t %% 7) + 1]
daily$d_trend <- rpois(n, (5 + 0.02 * t) * weekday)
x <- rpois(200, 8)
x[150:160] <- x[150:160] + c(3, 6, 10, 15, 18, 20, 16, 12, 8, 5, 2)
daily$d_outbreak <- x
x <- rbinom(120, 1, 0.15)
x[40:60] <- 0 # sd = 0 windows: undefined C2 statistics in C3, zero means
x[61] <- 3
x[62] <- 4
daily$d_zeros <- x
daily$d_constant <- c(rep(3, 40), 9, 3, 3, 12, 3, rep(3, 15))
daily$d_short <- c(2, 4, 3, 5, 1, 2, 6, 3, 9, 4)
daily$d_large <- rnbinom(365, mu = 800 + 200 * sin(2 * pi * (1:365) / 365), size = 30)

weekly <- list()
week0 <- as.Date("2010-01-04") # a Monday; 2016-02-29 (a leap day) is a Monday in range
nw <- 7 * 52 + 10
tw <- seq_len(nw)
seasonal <- exp(1.5 + 0.6 * cos(2 * pi * tw / 52) + 0.3 * sin(2 * pi * tw / 52))
weekly$w_seasonal_trend <- rnbinom(nw, mu = seasonal * exp(0.002 * tw), size = 5)
x <- rpois(nw, seasonal)
x[nw - c(40, 39, 38, 37)] <- x[nw - c(40, 39, 38, 37)] + c(8, 15, 12, 6)
x[nw - c(5, 4, 3)] <- x[nw - c(5, 4, 3)] + c(10, 20, 14)
weekly$w_seasonal_outbreaks <- x
weekly$w_low <- rpois(nw, 0.4 * seasonal / 4.5)
weekly$w_large <- rnbinom(nw, mu = 60 * seasonal * exp(-0.001 * tw), size = 20)
weekly$w_short <- rpois(4 * 52, 6) # shorter than b = 5 years: nothing to evaluate
# cases 12 weeks a year only: whole seasonal blocks of zeros (fitted means near 0)
x <- rpois(nw, ifelse((tw %% 52) < 12, 3, 0))
x[nw - 2] <- x[nw - 2] + 6
weekly$w_season_only <- x
x <- rep(0L, nw) # a single case, then two: the GLM does not converge for many weeks (NA)
x[100] <- 1L
x[nw - 30] <- 2L
weekly$w_almost_zero <- x

rows <- function(series, dates, counts) {
  data.frame(series = series, date = format(dates, "%Y-%m-%d"), count = as.integer(counts))
}
all_series <- rbind(
  do.call(rbind, lapply(names(daily), function(s) {
    rows(s, day0 + seq_along(daily[[s]]) - 1, daily[[s]])
  })),
  do.call(rbind, lapply(names(weekly), function(s) {
    rows(s, week0 + 7 * (seq_along(weekly[[s]]) - 1), weekly[[s]])
  }))
)
write.csv(all_series, "series.csv", row.names = FALSE, quote = FALSE)

## ---- Running the package -----------------------------------------------------------------
fmt <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))

result_rows <- function(series, dates, counts, upper, alarm) {
  counts <- as.vector(counts)
  upper <- as.vector(upper)
  alarm <- as.vector(alarm)
  data.frame(
    series = series, date = format(dates, "%Y-%m-%d"), count = as.integer(counts),
    threshold = fmt(upper), alarm = ifelse(is.na(alarm) | !alarm, 0L, 1L)
  )
}

run_ears <- function(series, p) {
  x <- daily[[series]]
  dates <- day0 + seq_along(x) - 1
  variant <- toupper(sub("ears-", "", p[["method"]]))
  baseline <- if (is.null(p[["baseline"]])) 7 else as.integer(p[["baseline"]])
  first <- baseline + switch(variant, C1 = 1, C2 = 3, C3 = 5)
  if (length(x) < first) {
    return(NULL)
  }
  ctl <- list(method = variant, baseline = baseline)
  if (!is.null(p[["alpha"]])) ctl$alpha <- as.numeric(p[["alpha"]])
  if (!is.null(p[["min_sigma"]])) ctl$minSigma <- as.numeric(p[["min_sigma"]])
  res <- earsC(sts(observed = x, epoch = dates, frequency = 365), control = ctl)
  result_rows(series, dates[first:length(x)], observed(res), upperbound(res), alarms(res))
}

run_cusum <- function(series, p) {
  x <- if (!is.null(daily[[series]])) daily[[series]] else weekly[[series]]
  step <- if (!is.null(daily[[series]])) 1 else 7
  start <- if (!is.null(daily[[series]])) day0 else week0
  dates <- start + step * (seq_along(x) - 1)
  baseline <- if (is.null(p[["baseline"]])) 28 else as.integer(p[["baseline"]])
  if (length(x) <= baseline) {
    return(NULL)
  }
  ctl <- list(range = (baseline + 1):length(x))
  if (!is.null(p[["k"]])) ctl$k <- as.numeric(p[["k"]])
  if (!is.null(p[["h"]])) ctl$h <- as.numeric(p[["h"]])
  if (!is.null(p[["m"]])) ctl$m <- as.numeric(p[["m"]])
  if (!is.null(p[["trans"]])) ctl$trans <- p[["trans"]]
  if (!is.null(p[["alpha"]])) ctl$alpha <- as.numeric(p[["alpha"]])
  s <- sts(observed = x, epoch = dates, frequency = if (step == 1) 365 else 52)
  res <- cusum(s, control = ctl)
  result_rows(series, dates[ctl$range], observed(res), upperbound(res), alarms(res))
}

run_farrington <- function(series, p) {
  x <- weekly[[series]]
  dates <- week0 + 7 * (seq_along(x) - 1)
  num <- function(key, default) if (is.null(p[[key]])) default else as.numeric(p[[key]])
  lgl <- function(key, default) if (is.null(p[[key]])) default else as.logical(p[[key]])
  b <- num("b", 5)
  w <- num("w", 3)
  first <- 52 * b + w + 1
  if (length(x) < first) {
    return(NULL)
  }
  ctl <- list(
    range = first:length(x), b = b, w = w, reweight = lgl("reweight", TRUE),
    weightsThreshold = num("weights_threshold", 2.58), alpha = num("alpha", 0.05),
    trend = lgl("trend", TRUE), pThresholdTrend = num("p_threshold_trend", 0.05),
    limit54 = c(num("limit54_cases", 5), num("limit54_weeks", 4)),
    powertrans = if (is.null(p[["powertrans"]])) "2/3" else p[["powertrans"]],
    noPeriods = num("no_periods", 10),
    pastWeeksNotIncluded = num("past_weeks_not_included", 26),
    thresholdMethod = if (is.null(p[["threshold_method"]])) "nbPlugin" else p[["threshold_method"]],
    glmWarnings = FALSE
  )
  s <- sts(observed = x, epoch = dates, frequency = 52)
  res <- farringtonFlexible(s, control = ctl)
  result_rows(series, dates[ctl$range], observed(res), upperbound(res), alarms(res))
}

parse_params <- function(text) {
  if (text == "") {
    return(list())
  }
  kv <- strsplit(strsplit(text, ";", fixed = TRUE)[[1]], "=", fixed = TRUE)
  setNames(lapply(kv, `[`, 2), vapply(kv, `[`, "", 1))
}

# case, method, params (fangkong's names), series
cases <- read.csv(text = "
case,method,params,series
ears_c1_default,ears-c1,,d_trend d_outbreak d_zeros d_constant d_short d_large
ears_c2_default,ears-c2,,d_trend d_outbreak d_zeros d_constant d_short d_large
ears_c3_default,ears-c3,,d_trend d_outbreak d_zeros d_constant d_short d_large
ears_c1_b14,ears-c1,baseline=14;alpha=0.01;min_sigma=0.5,d_trend d_outbreak d_zeros d_large
ears_c2_b10,ears-c2,baseline=10;alpha=0.05,d_trend d_outbreak d_zeros d_large
ears_c3_b3,ears-c3,baseline=3;alpha=0.001;min_sigma=1,d_trend d_outbreak d_zeros d_constant
cusum_default,cusum,,d_trend d_outbreak d_zeros d_constant d_short d_large w_seasonal_outbreaks
cusum_rossi,cusum,trans=rossi;baseline=14,d_trend d_outbreak d_large
cusum_anscombe,cusum,trans=anscombe;k=0.5;h=4,d_trend d_outbreak d_large
cusum_anscombe2nd,cusum,trans=anscombe2nd,d_trend d_outbreak d_large
cusum_negbin,cusum,trans=pearsonNegBin;alpha=0.2,d_trend d_outbreak d_large
cusum_none,cusum,trans=none;baseline=10,d_outbreak
cusum_m,cusum,m=6.5;baseline=7,d_trend d_outbreak d_zeros
farrington_noufaily,farrington,,w_seasonal_trend w_seasonal_outbreaks w_low w_large w_short
farrington_delta,farrington,threshold_method=delta,w_seasonal_trend w_seasonal_outbreaks w_low w_large
farrington_muan,farrington,threshold_method=muan,w_seasonal_trend w_seasonal_outbreaks w_large
farrington_classic,farrington,no_periods=1;past_weeks_not_included=3;threshold_method=delta;alpha=0.01,w_seasonal_trend w_seasonal_outbreaks w_large
farrington_plain,farrington,reweight=FALSE;trend=FALSE;powertrans=1/2;threshold_method=delta,w_seasonal_trend w_seasonal_outbreaks
farrington_b3,farrington,b=3;w=2;limit54_cases=0;limit54_weeks=1;alpha=0.01,w_seasonal_trend w_low
farrington_sparse,farrington,limit54_cases=0,w_season_only w_almost_zero w_low
", colClasses = "character")
write.csv(cases, "cases.csv", row.names = FALSE, quote = FALSE)

for (i in seq_len(nrow(cases))) {
  p <- parse_params(cases$params[i])
  p[["method"]] <- cases$method[i] # p[["m"]] stays NULL: [[ ]] matches exactly
  run <- switch(sub("-.*", "", p[["method"]]), ears = run_ears, cusum = run_cusum, farrington = run_farrington)
  out <- do.call(rbind, lapply(strsplit(cases$series[i], " ")[[1]], run, p = p))
  if (is.null(out)) {
    out <- data.frame(series = character(), date = character(), count = integer(),
                      threshold = character(), alarm = integer())
  }
  write.csv(out, paste0(cases$case[i], ".csv"), row.names = FALSE, quote = FALSE)
  cat(cases$case[i], nrow(out), "rows,", sum(out$alarm), "alarms\n")
}
