// Numbers, amounts and times in the shopper's own language (the browser's first preferred language): EUR for a German
// reader is "12,50 €", for an American "€12.50"; a time is "14:05" or "2:05 PM". Prerendering (no browser) uses en-US.
const FALLBACK_LOCALE = "en-US";

/** The language the shop formats for: the browser's first preferred language, or en-US where there is none. */
export function shopperLocale(): string {
  if (typeof navigator === "undefined") return FALLBACK_LOCALE;
  return navigator.languages?.[0] ?? navigator.language ?? FALLBACK_LOCALE;
}

/** The shopper's preferred languages, most preferred first (empty when prerendering). */
export function shopperLanguages(): readonly string[] {
  if (typeof navigator === "undefined") return [];
  return navigator.languages?.length ? navigator.languages : navigator.language ? [navigator.language] : [];
}

const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function moneyFormat(currency: string, locale: string): Intl.NumberFormat {
  const key = `${locale}:${currency}`;
  let format = numberFormats.get(key);
  if (!format) {
    try {
      format = new Intl.NumberFormat(locale, { style: "currency", currency });
    } catch {
      // A language tag Intl does not take: format as the shop's default does.
      format = new Intl.NumberFormat(FALLBACK_LOCALE, { style: "currency", currency });
    }
    numberFormats.set(key, format);
  }
  return format;
}

/** An amount in integer minor units (cents), in the currency's own number of decimals and the shopper's language. */
export function formatMoney(amount: number, currency: string, locale = shopperLocale()): string {
  const format = moneyFormat(currency, locale);
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** digits);
}

type DateStyle = "date" | "time" | "dateTime";
const dateOptions: Record<DateStyle, Intl.DateTimeFormatOptions> = {
  date: { dateStyle: "long" },
  time: { hour: "numeric", minute: "2-digit" },
  dateTime: { dateStyle: "long", timeStyle: "short" },
};

/** Where a time is read: the shopper's own time zone unless a caller names one (tests, a shop's local time). */
export interface TimeOptions {
  timeZone?: string;
}

function dateFormat(style: DateStyle, locale: string, options: TimeOptions): Intl.DateTimeFormat {
  const key = `${locale}:${style}:${options.timeZone ?? ""}`;
  let format = dateFormats.get(key);
  if (!format) {
    const settings = { ...dateOptions[style], timeZone: options.timeZone };
    try {
      format = new Intl.DateTimeFormat(locale, settings);
    } catch {
      format = new Intl.DateTimeFormat(FALLBACK_LOCALE, settings);
    }
    dateFormats.set(key, format);
  }
  return format;
}

/** "3 December 2026 at 14:05" (en-GB), "3. Dezember 2026 um 14:05" (de-DE), "December 3, 2026 at 2:05 PM" (en-US). */
export function formatDateTime(when: Date | string | number, locale = shopperLocale(), options: TimeOptions = {}): string {
  return dateFormat("dateTime", locale, options).format(new Date(when));
}

/** "3. Dezember 2026" (de-DE), "December 3, 2026" (en-US). */
export function formatDate(when: Date | string | number, locale = shopperLocale(), options: TimeOptions = {}): string {
  return dateFormat("date", locale, options).format(new Date(when));
}

/** "14:05" (de-DE), "2:05 PM" (en-US). */
export function formatTime(when: Date | string | number, locale = shopperLocale(), options: TimeOptions = {}): string {
  return dateFormat("time", locale, options).format(new Date(when));
}
