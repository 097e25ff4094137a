type Row = Record<string, number | number[]>;
export interface ConformanceResult {
  error?: string;
  best: string;
  backends: string[];
  /** each backend's features (wasm: which module ran) */
  features: Record<string, readonly string[]>;
  results: Record<string, Record<string, Row>>;
}
/** t: the tapegrad module namespace (the Node entry, the browser entry, or a bundle of either) */
export function runConformance(t: object, names?: string[]): Promise<ConformanceResult>;
