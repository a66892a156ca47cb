export { forecastFinish, QUANTILES, type BandPoint, type Finish, type Forecast, type ForecastInput, type HourSample } from "./monte-carlo";
export { backtest, type BacktestPoint } from "./backtest";
export { hourOpen, openAt, type WeeklyWindows } from "./schedule";
export { mulberry32 } from "./random";
