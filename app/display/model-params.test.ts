import { PARAMETER_MEANINGS, PARAMETER_UNITS, spendCustomersNote } from "./model-params";

describe("model parameters as the Model page shows them", () => {
  it("every parameter has a meaning and a unit; only Gamma-Gamma's gamma is money", () => {
    expect(Object.keys(PARAMETER_UNITS).sort()).toEqual(Object.keys(PARAMETER_MEANINGS).sort());
    expect(Object.entries(PARAMETER_UNITS).filter(([, unit]) => unit === "money")).toEqual([["gamma", "money"]]);
    expect(PARAMETER_UNITS.p).toBe("none");
    expect(PARAMETER_UNITS.q).toBe("none");
  });

  it("says why the spend model was fitted on fewer customers than the repeat buyers", () => {
    expect(spendCustomersNote(70, 73)).toBe(
      "Fitted on 70 of the 73 repeat buyers: the 3 left out have repeat orders worth 0 (free, cancelled or refunded in full), and a spend model learns only from orders with a value.",
    );
    expect(spendCustomersNote(73, 73)).toBe("Fitted on all 73 repeat buyers.");
  });
});
