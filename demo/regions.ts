// Where the demo store's customers live: tax rate (charged on top, per line) and the
// currency they pay in (presentment), with a fixed exchange rate from USD.

export interface Region {
  country: string;
  countryCode: string;
  province: string;
  provinceCode: string;
  cities: readonly { city: string; zip: string }[];
  taxRate: number;
  taxTitle: string;
  currency: string;
  /** Presentment units per USD. */
  fxRate: number;
  locale: string;
  phonePrefix: string;
  weight: number;
}

const us = (
  province: string,
  provinceCode: string,
  taxRate: number,
  weight: number,
  cities: Region["cities"],
): Region => ({
  country: "United States",
  countryCode: "US",
  province,
  provinceCode,
  cities,
  taxRate,
  taxTitle: `${provinceCode} State Tax`,
  currency: "USD",
  fxRate: 1,
  locale: "en-US",
  phonePrefix: "+1",
  weight,
});

export const REGIONS: readonly Region[] = [
  us("New York", "NY", 0.08875, 14, [{ city: "Brooklyn", zip: "11211" }, { city: "New York", zip: "10003" }, { city: "Buffalo", zip: "14201" }]),
  us("California", "CA", 0.0725, 16, [{ city: "Los Angeles", zip: "90026" }, { city: "San Francisco", zip: "94110" }, { city: "Oakland", zip: "94612" }]),
  us("Texas", "TX", 0.0825, 8, [{ city: "Austin", zip: "78704" }, { city: "Houston", zip: "77008" }]),
  us("Washington", "WA", 0.101, 7, [{ city: "Seattle", zip: "98122" }, { city: "Spokane", zip: "99201" }]),
  us("Oregon", "OR", 0, 6, [{ city: "Portland", zip: "97214" }, { city: "Bend", zip: "97701" }]),
  us("Colorado", "CO", 0.0765, 6, [{ city: "Denver", zip: "80205" }, { city: "Boulder", zip: "80302" }]),
  us("Illinois", "IL", 0.1025, 5, [{ city: "Chicago", zip: "60622" }]),
  us("Massachusetts", "MA", 0.0625, 5, [{ city: "Boston", zip: "02130" }, { city: "Cambridge", zip: "02139" }]),
  us("Minnesota", "MN", 0.07875, 4, [{ city: "Minneapolis", zip: "55408" }]),
  us("Vermont", "VT", 0.06, 3, [{ city: "Burlington", zip: "05401" }]),
  us("Pennsylvania", "PA", 0.06, 4, [{ city: "Philadelphia", zip: "19125" }, { city: "Pittsburgh", zip: "15213" }]),
  us("North Carolina", "NC", 0.0475, 4, [{ city: "Asheville", zip: "28801" }, { city: "Durham", zip: "27701" }]),
  us("Utah", "UT", 0.0725, 3, [{ city: "Salt Lake City", zip: "84102" }]),
  {
    country: "Canada", countryCode: "CA", province: "Ontario", provinceCode: "ON",
    cities: [{ city: "Toronto", zip: "M6J 1H1" }, { city: "Ottawa", zip: "K2P 1X4" }],
    taxRate: 0.13, taxTitle: "HST", currency: "CAD", fxRate: 1.37, locale: "en-CA", phonePrefix: "+1", weight: 4,
  },
  {
    country: "Canada", countryCode: "CA", province: "British Columbia", provinceCode: "BC",
    cities: [{ city: "Vancouver", zip: "V5T 1R4" }],
    taxRate: 0.12, taxTitle: "GST + PST", currency: "CAD", fxRate: 1.37, locale: "en-CA", phonePrefix: "+1", weight: 3,
  },
  {
    country: "United Kingdom", countryCode: "GB", province: "England", provinceCode: "ENG",
    cities: [{ city: "London", zip: "E2 7DG" }, { city: "Manchester", zip: "M4 1HN" }],
    taxRate: 0, taxTitle: "VAT", currency: "GBP", fxRate: 0.79, locale: "en-GB", phonePrefix: "+44", weight: 3,
  },
  {
    country: "Germany", countryCode: "DE", province: "Berlin", provinceCode: "BE",
    cities: [{ city: "Berlin", zip: "10999" }],
    taxRate: 0, taxTitle: "MwSt", currency: "EUR", fxRate: 0.92, locale: "de", phonePrefix: "+49", weight: 2,
  },
  {
    country: "Netherlands", countryCode: "NL", province: "North Holland", provinceCode: "NH",
    cities: [{ city: "Amsterdam", zip: "1015 CJ" }],
    taxRate: 0, taxTitle: "BTW", currency: "EUR", fxRate: 0.92, locale: "nl", phonePrefix: "+31", weight: 1,
  },
];

/** The flagship store (point-of-sale orders are taxed where they are rung up). */
export const STORE_REGION: Region = REGIONS[0];
export const STORE_LOCATION_ID = 68_412_345_678;
