-- Estimate from averages (issue 13, small stores): below the model's minimums a shop's fit
-- carries the simple estimate (app/analytics/estimate-from-averages.ts), and the fit records
-- which of the two the predicted figures come from, so every page can say so.
ALTER TABLE "ShopFit" ADD COLUMN "averagesEstimate" JSONB;
ALTER TABLE "ShopFit" ADD COLUMN "predictionSource" TEXT;
-- Fits written before this: a stored model means the model's figures; otherwise none until the next refit.
UPDATE "ShopFit" SET "predictionSource" = 'model' WHERE model IS NOT NULL;
