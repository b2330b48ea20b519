// The one file of the `zipcodes` package the local address lookup reads: the US ZIP code list, keyed by ZIP code.
declare module "zipcodes/lib/codes.js" {
  export const codes: Record<string, { zip: string; city: string; state: string; country: string; latitude: number; longitude: number }>;
}
