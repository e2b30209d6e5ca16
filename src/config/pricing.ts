import type { PriceConfig } from './schema.js';

export interface Price {
  inputPerMTokens: number;
  textOutputPerMTokens: number;
  imageOutputPerMTokens: number;
  /** Output tokens one generated image costs when the reply carries no usage figures. */
  assumedImageTokens: number;
}

/** Public list prices (USD) used when a target sets none; keep them current in the README too. */
export const DEFAULT_PRICES: Record<string, Price> = {
  'gemini-2.5-flash-image': {
    inputPerMTokens: 0.3,
    textOutputPerMTokens: 2.5,
    imageOutputPerMTokens: 30,
    assumedImageTokens: 1290,
  },
  'gemini-3-pro-image-preview': {
    inputPerMTokens: 2,
    textOutputPerMTokens: 12,
    imageOutputPerMTokens: 120,
    assumedImageTokens: 1120,
  },
  'gemini-2.0-flash-preview-image-generation': {
    inputPerMTokens: 0.1,
    textOutputPerMTokens: 0.4,
    imageOutputPerMTokens: 30,
    assumedImageTokens: 1290,
  },
};

const FREE: Price = { inputPerMTokens: 0, textOutputPerMTokens: 0, imageOutputPerMTokens: 0, assumedImageTokens: 0 };

export function resolvePrice(model: string, configured: PriceConfig | undefined): Price {
  return { ...(DEFAULT_PRICES[model] ?? FREE), ...configured };
}

export interface Usage {
  inputTokens: number | null;
  outputTokens: number | null;
  images: number;
}

/** Estimated cost of one call; a reply without usage figures is charged the assumed image tokens per image. */
export function estimateCost(price: Price, usage: Usage): number {
  const input = (usage.inputTokens ?? 0) * price.inputPerMTokens;
  const outputTokens = usage.outputTokens ?? usage.images * price.assumedImageTokens;
  const outputRate = usage.images > 0 ? price.imageOutputPerMTokens : price.textOutputPerMTokens;
  return (input + outputTokens * outputRate) / 1_000_000;
}
