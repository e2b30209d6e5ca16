export type ImageFormat = 'png' | 'jpeg' | 'webp';

/** Recognises a real image by its leading bytes, from base64 text (only the head is decoded). */
export function sniffBase64Image(base64: string): ImageFormat | null {
  const head = Buffer.from(base64.slice(0, 24).replace(/\s+/g, ''), 'base64');
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.length >= 12 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP')
    return 'webp';
  return null;
}

const DATA_URL = /^data:(image\/[a-z0-9.+-]+);base64,(.*)$/is;

export function parseDataUrl(url: string): { mimeType: string; base64: string } | null {
  const match = DATA_URL.exec(url.trim());
  return match ? { mimeType: match[1]!.toLowerCase(), base64: match[2]! } : null;
}
