// Reads the SDK calls of a CDK AwsCustomResource back from a template: its Create/Update/Delete properties are JSON
// strings, joined with Ref/Fn::GetAtt values when they name resources. Intrinsics come back as the objects they were.

export interface SdkCall {
  service: string;
  action: string;
  parameters?: Record<string, any>;
  physicalResourceId?: unknown;
  [option: string]: unknown;
}

/** One Create/Update/Delete property of a custom resource, parsed; intrinsic values are restored in place. */
export function parseSdkCall(property: unknown): SdkCall | undefined {
  if (property === undefined) return undefined;
  const intrinsics: unknown[] = [];
  let text: string;
  if (typeof property === "string") text = property;
  else {
    const join = (property as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
    if (join?.[0] !== "") throw new Error(`not a JSON string or a Fn::Join of one: ${JSON.stringify(property)}`);
    text = join[1].map((part) => (typeof part === "string" ? part : `@@${intrinsics.push(part) - 1}@@`)).join("");
  }
  const restore = (value: unknown): unknown => {
    if (typeof value === "string") {
      const whole = /^@@(\d+)@@$/.exec(value);
      if (whole) return intrinsics[Number(whole[1])];
      if (value.includes("@@"))
        return {
          "Fn::Join": [
            "",
            value
              .split(/@@(\d+)@@/)
              .map((piece, i) => (i % 2 === 1 ? intrinsics[Number(piece)] : piece))
              .filter((p) => p !== ""),
          ],
        };
      return value;
    }
    if (Array.isArray(value)) return value.map(restore);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, restore(v)]));
    return value;
  };
  return restore(JSON.parse(text)) as SdkCall;
}

/** The three calls of an AwsCustomResource in a template's resource properties. */
export function sdkCallsOf(properties: Record<string, unknown>): { create?: SdkCall; update?: SdkCall; delete?: SdkCall } {
  return { create: parseSdkCall(properties.Create), update: parseSdkCall(properties.Update), delete: parseSdkCall(properties.Delete) };
}
