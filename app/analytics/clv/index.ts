// Public surface of the CLV engine. Everything is pure: no I/O, no framework.
export { type RfRow, type RfInput, type PreparedRows, compressRows, prepareRows, RowCompressor, InvalidRowError, rowProblem } from "./rows";
export { type FitBoundary, type FitOptions, type FitResult } from "./estimation";
export { type NbdParams } from "./nbd";
export {
  type BgNbdParams,
  fitBgNbd,
  bgnbdLogLikelihood,
  bgnbdLogLikelihoodRow,
  bgnbdPAlive,
  bgnbdExpectedPurchases,
  bgnbdConditionalExpectedPurchases,
  bgnbdProbabilityOfPurchases,
  bgnbdProbabilityOfPurchaseWithin,
  bgnbdTimeToPurchase,
  fitModifiedBgNbd,
  modifiedBgnbdLogLikelihood,
  modifiedBgnbdLogLikelihoodRow,
  modifiedBgnbdPAlive,
  modifiedBgnbdExpectedPurchases,
  modifiedBgnbdConditionalExpectedPurchases,
  modifiedBgnbdProbabilityOfPurchases,
  modifiedBgnbdProbabilityOfPurchaseWithin,
  modifiedBgnbdTimeToPurchase,
} from "./bgnbd";
export {
  type ParetoNbdParams,
  fitParetoNbd,
  paretoNbdLogLikelihood,
  paretoNbdLogLikelihoodRow,
  paretoNbdPAlive,
  paretoNbdExpectedPurchases,
  paretoNbdConditionalExpectedPurchases,
  paretoNbdProbabilityOfPurchases,
  paretoNbdProbabilityOfPurchaseWithin,
  paretoNbdTimeToPurchase,
} from "./pareto-nbd";
export {
  type GammaGammaParams,
  type SpendRow,
  fitGammaGamma,
  compressSpendRows,
  gammaGammaLogLikelihood,
  gammaGammaLogLikelihoodRow,
  gammaGammaExpectedValue,
  spendFrequencyCorrelation,
  spendRowProblem,
} from "./gamma-gamma";
export {
  type BgBbParams,
  type BgBbRow,
  fitBgBb,
  bgbbLogLikelihood,
  bgbbLogLikelihoodRow,
  bgbbPAlive,
  bgbbExpectedPurchases,
  bgbbConditionalExpectedPurchases,
  bgbbProbabilityOfPurchases,
  bgbbRowProblem,
} from "./bgbb";
export { type CountModel, type CountModelName, type CountModelParams, COUNT_MODEL_LABELS, countModel, fitCountModelByName, fittedCountModel } from "./count-model";
export { type HomogeneousDropOut, homogeneousDropOutOf } from "./homogeneous-dropout";
export {
  DISCOUNTING_CONVENTION,
  NEXT_ORDER_CONVENTION,
  NEXT_ORDER_CAP_DAYS,
  MONTH_DAYS,
  monthlyDiscountRate,
  horizonMonths,
  discountedExpectedPurchases,
  predictedLifetimeValue,
  daysToNextOrder,
} from "./lifetime-value";
export {
  type ShopModel,
  type ShopModelJson,
  type ShopModelOptions,
  type ShopModelResult,
  type ShopModelFailureCode,
  type CustomerPrediction,
  type HoldoutData,
  MIN_CUSTOMERS,
  MIN_REPEAT_BUYERS,
  MIN_HISTORY_DAYS,
  fitShopModel,
  fitShopModelAsync,
  type CountModelFitter,
  restoreShopModel,
  DEFAULT_SHOP_CANDIDATES,
  APP_SHOP_CANDIDATES,
} from "./shop-model";
export { type BacktestOptions, type BacktestResult, type TrackingRow, backtest } from "./backtest";
export { type SimulatedCustomer, type SimulationOptions, simulateBgNbd, simulateParetoNbd } from "./simulate";
