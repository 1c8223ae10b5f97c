// The demo store's product catalogue: an outdoor apparel and gear brand selling
// direct to consumers. Prices in USD cents; popularity is a relative sales weight.

export const DEMO_VENDOR = "Northfold Outfitters";

export interface DemoVariant {
  id: number;
  title: string;
  sku: string;
}

export interface DemoProduct {
  id: number;
  title: string;
  productType: string;
  priceMinor: number;
  grams: number;
  popularity: number;
  /** Sold in pairs and packs: a line often has quantity 2-3. */
  multiples: boolean;
  /** Sold mainly in autumn and winter. */
  winter: boolean;
  variants: DemoVariant[];
}

type Options = readonly string[];
const SIZES: Options = ["S", "M", "L", "XL"];
const SOCK_SIZES: Options = ["S", "M", "L"];
const SHOE_SIZES: Options = ["7", "8", "9", "10", "11", "12"];
const ONE: Options = ["Default Title"];

// [title, type, price (USD), grams, popularity, multiples, winter, colours, sizes]
type Row = readonly [string, string, number, number, number, boolean, boolean, Options, Options];
const ROWS: readonly Row[] = [
  ["Merino Crew Sock", "Socks", 18, 80, 26, true, false, ["Charcoal", "Oat", "Forest"], SOCK_SIZES],
  ["Merino Hiker Sock", "Socks", 24, 110, 16, true, false, ["Charcoal", "Rust"], SOCK_SIZES],
  ["Ankle Sock 3-Pack", "Socks", 28, 150, 10, true, false, ["Mixed"], SOCK_SIZES],
  ["Everyday Organic Tee", "Tops", 32, 180, 22, true, false, ["White", "Black", "Sage", "Navy"], SIZES],
  ["Pocket Tee", "Tops", 36, 190, 12, false, false, ["Heather", "Clay"], SIZES],
  ["Merino Base Layer Top", "Tops", 78, 220, 9, false, true, ["Black", "Slate"], SIZES],
  ["Merino Base Layer Bottom", "Bottoms", 72, 200, 6, false, true, ["Black"], SIZES],
  ["Waffle Henley", "Tops", 58, 300, 9, false, true, ["Oat", "Forest"], SIZES],
  ["Flannel Overshirt", "Tops", 89, 520, 10, false, true, ["Red Check", "Blue Check"], SIZES],
  ["Fleece Half-Zip", "Tops", 79, 420, 11, false, true, ["Navy", "Moss", "Cream"], SIZES],
  ["Heavyweight Hoodie", "Tops", 68, 650, 15, false, true, ["Black", "Heather", "Rust"], SIZES],
  ["Crewneck Sweatshirt", "Tops", 62, 560, 10, false, true, ["Oat", "Navy"], SIZES],
  ["Trail Short", "Bottoms", 54, 210, 8, false, false, ["Khaki", "Black"], SIZES],
  ["Canvas Work Pant", "Bottoms", 88, 680, 9, false, false, ["Duck", "Black"], ["30", "32", "34", "36"]],
  ["Stretch Hiking Pant", "Bottoms", 98, 420, 8, false, false, ["Slate", "Olive"], ["30", "32", "34", "36"]],
  ["Rain Shell Jacket", "Outerwear", 149, 390, 7, false, false, ["Yellow", "Black"], SIZES],
  ["Insulated Puffer Jacket", "Outerwear", 189, 620, 8, false, true, ["Black", "Navy", "Forest"], SIZES],
  ["Down Vest", "Outerwear", 119, 330, 5, false, true, ["Black", "Copper"], SIZES],
  ["Sherpa Trucker Jacket", "Outerwear", 165, 980, 4, false, true, ["Denim"], SIZES],
  ["Wool Beanie", "Accessories", 28, 90, 18, false, true, ["Charcoal", "Rust", "Cream"], ONE],
  ["Trail Cap", "Accessories", 30, 85, 12, false, false, ["Olive", "Black", "Stone"], ONE],
  ["Merino Neck Gaiter", "Accessories", 26, 60, 8, false, true, ["Black", "Forest"], ONE],
  ["Touchscreen Gloves", "Accessories", 34, 70, 9, false, true, ["Black", "Grey"], ["S/M", "L/XL"]],
  ["Insulated Bottle 750 ml", "Gear", 36, 420, 13, false, false, ["Steel", "Moss", "Sand"], ONE],
  ["Camp Mug", "Gear", 22, 260, 9, true, false, ["Enamel White", "Enamel Blue"], ONE],
  ["Daypack 20 L", "Gear", 89, 700, 7, false, false, ["Black", "Olive"], ONE],
  ["Rolltop Backpack 28 L", "Gear", 129, 980, 5, false, false, ["Black", "Sand"], ONE],
  ["Packable Duffel 40 L", "Gear", 79, 540, 4, false, false, ["Black", "Navy"], ONE],
  ["Headlamp 350", "Gear", 44, 110, 7, false, true, ["Black"], ONE],
  ["Camp Blanket", "Gear", 98, 1_200, 5, false, true, ["Plaid", "Forest"], ONE],
  ["Trail Runner 2", "Footwear", 129, 620, 9, false, false, ["Slate", "Black", "Coral"], SHOE_SIZES],
  ["Waterproof Hiking Boot", "Footwear", 179, 1_150, 6, false, true, ["Brown", "Black"], SHOE_SIZES],
  ["Wool Slipper", "Footwear", 64, 480, 6, false, true, ["Grey", "Oat"], SHOE_SIZES],
  ["Camp Sandal", "Footwear", 58, 520, 5, false, false, ["Black", "Olive"], SHOE_SIZES],
  ["Waxed Canvas Tote", "Accessories", 48, 480, 6, false, false, ["Tan", "Black"], ONE],
  ["Leather Belt", "Accessories", 54, 210, 4, false, false, ["Brown", "Black"], ["30", "32", "34", "36"]],
  ["Bandana 2-Pack", "Accessories", 16, 50, 8, true, false, ["Red/Navy", "Green/Sand"], ONE],
  ["Waterproofing Wax", "Care", 14, 120, 7, true, false, ["Default Title"], ONE],
  ["Gear Repair Kit", "Care", 19, 90, 5, false, false, ["Default Title"], ONE],
  ["Merino Wash", "Care", 15, 520, 6, true, false, ["Default Title"], ONE],
];

function variantsOf(productIndex: number, title: string, colours: Options, sizes: Options): DemoVariant[] {
  const prefix = title
    .split(/[\s-]+/)
    .filter((word) => /^[A-Za-z]/.test(word))
    .map((word) => word[0].toUpperCase())
    .join("")
    .slice(0, 4);
  const variants: DemoVariant[] = [];
  for (const colour of colours) {
    for (const size of sizes) {
      const parts = [colour, size].filter((part) => part !== "Default Title");
      variants.push({
        id: 44_412_000_000_000 + productIndex * 1_000 + variants.length + 1,
        title: parts.length > 0 ? parts.join(" / ") : "Default Title",
        sku: [prefix, ...parts.map((part) => part.replace(/[^A-Za-z0-9]/g, "").slice(0, 3).toUpperCase())].join("-"),
      });
    }
  }
  return variants;
}

export const CATALOGUE: readonly DemoProduct[] = ROWS.map(
  ([title, productType, price, grams, popularity, multiples, winter, colours, sizes], index) => ({
    id: 8_412_000_000_000 + (index + 1) * 7_919,
    title,
    productType,
    priceMinor: Math.round(price * 100),
    grams,
    popularity,
    multiples,
    winter,
    variants: variantsOf(index, title, colours, sizes),
  }),
);
