// Draws a flat SVG illustration per seed product into public/images/products/<id>.svg, and one per colour for a
// product whose variants show their colour (<id>--<colour>.svg, the seed's variant images).
// Run with `npx tsx scripts/generate-product-images.ts`; fails if a seed product or colour has no drawing.
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { seedProducts } from "@checkout/core";

interface Illustration {
  /** Background tint and the soft disc behind the object. */
  background: string;
  disc: string;
  /** What the picture shows, for the SVG's <title>. */
  title: string;
  draw: () => string;
  /** The drawing in other colours: its title, and each fill of the drawing replaced by that colour's. */
  colours?: Record<string, { title: string; recolour: Record<string, string> }>;
}

const SIZE = 600;
const groundShadow = (cx: number, cy: number, rx: number, ry = 16) => `<ellipse cx="${cx}" cy="${cy}" rx="${rx}" ry="${ry}" fill="#1d2420" opacity="0.09"/>`;

function sock(x: number, y: number, angle: number, colour: string, shade: string, cuff: string, clipId: string): string {
  const shape = "M0 0 L72 0 L72 168 Q72 190 94 200 L152 224 Q184 240 170 270 Q156 296 122 284 L38 252 Q0 236 0 198 Z";
  return `<g transform="translate(${x} ${y}) rotate(${angle})">
    <clipPath id="${clipId}"><path d="${shape}"/></clipPath>
    <path d="${shape}" fill="${colour}"/>
    <g clip-path="url(#${clipId})">
      <rect x="-10" y="-10" width="100" height="42" fill="${cuff}"/>
      <rect x="-10" y="40" width="100" height="7" fill="${shade}" opacity="0.55"/>
      <rect x="-10" y="53" width="100" height="7" fill="${shade}" opacity="0.55"/>
      <circle cx="22" cy="236" r="40" fill="${shade}"/>
      <circle cx="166" cy="266" r="40" fill="${shade}"/>
    </g>
    <g stroke="${shade}" stroke-width="3" opacity="0.35">
      <line x1="14" y1="10" x2="14" y2="28"/><line x1="28" y1="10" x2="28" y2="28"/><line x1="42" y1="10" x2="42" y2="28"/><line x1="56" y1="10" x2="56" y2="28"/>
    </g>
  </g>`;
}

function bean(x: number, y: number, angle: number, scale = 1): string {
  return `<g transform="translate(${x} ${y}) rotate(${angle}) scale(${scale})">
    <ellipse rx="19" ry="13" fill="#4b2c1c"/>
    <ellipse rx="19" ry="13" fill="#6a4129" opacity="0.5" transform="translate(-3 -3) scale(0.75)"/>
    <path d="M-15 2 Q-5 -6 3 1 Q10 7 16 -1" stroke="#2b180e" stroke-width="3" fill="none" stroke-linecap="round"/>
  </g>`;
}

const illustrations: Record<string, Illustration> = {
  "everyday-tee": {
    background: "#e9eef4",
    disc: "#dbe4ee",
    title: "A blue crew-neck T-shirt",
    colours: {
      Black: { title: "A black crew-neck T-shirt", recolour: { "#4a78a8": "#2b2d31", "#3b6490": "#1d1f22", "#2f557d": "#0f1012" } },
      White: { title: "A white crew-neck T-shirt", recolour: { "#4a78a8": "#f7f5f0", "#3b6490": "#d9d5cb", "#2f557d": "#b9b3a5" } },
      Blue: { title: "A blue crew-neck T-shirt", recolour: {} },
    },
    draw: () => `${groundShadow(300, 492, 150)}
      <path d="M212 148 L150 170 L88 250 L146 292 L186 252 L186 472 L414 472 L414 252 L454 292 L512 250 L450 170 L388 148 Q300 206 212 148 Z" fill="#4a78a8"/>
      <path d="M186 252 L186 290 L214 262 Z M414 252 L414 290 L386 262 Z" fill="#3b6490" opacity="0.6"/>
      <path d="M222 151 Q300 218 378 151" stroke="#2f557d" stroke-width="11" fill="none" stroke-linecap="round"/>
      <path d="M99 262 L156 300 M501 262 L444 300" stroke="#2f557d" stroke-width="5" opacity="0.55" stroke-linecap="round"/>
      <line x1="186" y1="454" x2="414" y2="454" stroke="#2f557d" stroke-width="4" opacity="0.5"/>
      <path d="M250 300 Q262 380 246 440" stroke="#ffffff" stroke-width="5" opacity="0.12" fill="none" stroke-linecap="round"/>`,
  },
  "merino-hoodie": {
    background: "#e8ece5",
    disc: "#d9e2d6",
    title: "A charcoal merino hoodie with drawstrings",
    colours: {
      Charcoal: { title: "A charcoal merino hoodie with drawstrings", recolour: {} },
      Forest: {
        title: "A forest-green merino hoodie with drawstrings",
        recolour: { "#41464d": "#2f4a3a", "#545a62": "#3d5e49", "#2e3237": "#233a2d", "#4a5057": "#36543f", "#3a3f45": "#2a4233", "#3d6b4f": "#c9a55c" },
      },
    },
    draw: () => `${groundShadow(300, 490, 175)}
      <path d="M218 176 Q214 96 300 92 Q386 96 382 176 Z" fill="#41464d"/>
      <path d="M200 170 L140 192 L96 330 L118 446 L166 446 L176 300 L180 472 L420 472 L424 300 L434 446 L482 446 L504 330 L460 192 L400 170 Q300 214 200 170 Z" fill="#545a62"/>
      <path d="M242 174 Q248 126 300 122 Q352 126 358 174 Q300 204 242 174 Z" fill="#2e3237"/>
      <rect x="180" y="448" width="240" height="24" fill="#41464d"/>
      <rect x="116" y="428" width="52" height="20" rx="6" fill="#41464d"/>
      <rect x="432" y="428" width="52" height="20" rx="6" fill="#41464d"/>
      <path d="M228 356 L372 356 L398 430 L202 430 Z" fill="#4a5057"/>
      <path d="M228 356 L210 410 M372 356 L390 410" stroke="#3a3f45" stroke-width="4" stroke-linecap="round"/>
      <path d="M282 190 L276 268 M318 190 L324 268" stroke="#e4dccb" stroke-width="5" stroke-linecap="round"/>
      <rect x="270" y="264" width="12" height="18" rx="4" fill="#3d6b4f"/>
      <rect x="318" y="264" width="12" height="18" rx="4" fill="#3d6b4f"/>`,
  },
  "rain-jacket": {
    background: "#eeefe2",
    disc: "#e1e3cc",
    title: "An olive packable rain jacket with hood",
    colours: {
      Olive: { title: "An olive packable rain jacket with hood", recolour: {} },
      Navy: {
        title: "A navy packable rain jacket with hood",
        recolour: { "#5f6a34": "#2c3a5a", "#3f4722": "#1c2640", "#75813f": "#34466c", "#33391c": "#161e33", "#68743a": "#2f3f62" },
      },
    },
    draw: () => `${groundShadow(300, 494, 170)}
      <path d="M222 180 Q210 92 300 84 Q390 92 378 180 Z" fill="#5f6a34"/>
      <path d="M250 178 Q252 118 300 114 Q348 118 350 178 Z" fill="#3f4722"/>
      <path d="M202 172 L142 196 L100 340 L124 450 L170 450 L180 304 L182 476 Q300 492 418 476 L420 304 L430 450 L476 450 L500 340 L458 196 L398 172 Q300 206 202 172 Z" fill="#75813f"/>
      <line x1="300" y1="196" x2="300" y2="484" stroke="#33391c" stroke-width="5"/>
      <rect x="292" y="196" width="16" height="22" rx="4" fill="#33391c"/>
      <path d="M326 250 L388 246 L390 292 L328 296 Z" fill="#68743a"/>
      <line x1="328" y1="254" x2="386" y2="250" stroke="#33391c" stroke-width="4"/>
      <path d="M200 380 L182 380 M400 380 L418 380" stroke="#5f6a34" stroke-width="6"/>
      <circle cx="262" cy="470" r="6" fill="#e8e0c8"/><circle cx="338" cy="470" r="6" fill="#e8e0c8"/>
      <path d="M134 300 L118 420 M466 300 L482 420" stroke="#ffffff" stroke-width="4" opacity="0.14" stroke-linecap="round"/>`,
  },
  "running-socks": {
    background: "#f6ebe5",
    disc: "#f0dcd2",
    title: "Three cushioned running socks in coral, teal and mustard",
    draw: () => `${groundShadow(300, 486, 180)}
      ${sock(150, 150, -12, "#e2b14a", "#c9962f", "#f3ead8", "sock-a")}
      ${sock(245, 140, 0, "#3d8c86", "#2c6c67", "#f3ead8", "sock-b")}
      ${sock(330, 150, 12, "#e07a5f", "#c35f45", "#f3ead8", "sock-c")}`,
  },
  "wool-beanie": {
    background: "#f5e9df",
    disc: "#eed8c8",
    title: "A rust-coloured ribbed wool beanie with a folded cuff",
    colours: {
      Rust: { title: "A rust-coloured ribbed wool beanie with a folded cuff", recolour: {} },
      Grey: { title: "A grey ribbed wool beanie with a folded cuff", recolour: { "#b5532e": "#8a8d91", "#9a4523": "#6f7276", "#a04826": "#7a7d81", "#7f3517": "#55585c" } },
      Navy: { title: "A navy ribbed wool beanie with a folded cuff", recolour: { "#b5532e": "#2f4470", "#9a4523": "#243659", "#a04826": "#283b62", "#7f3517": "#1a2745" } },
    },
    draw: () => {
      const ribs = Array.from({ length: 15 }, (_, index) => {
        const x = 172 + index * 18.5;
        return `<line x1="${x}" y1="368" x2="${x}" y2="446" stroke="#7f3517" stroke-width="4" opacity="0.55"/>`;
      }).join("");
      const domeRibs = [-90, -54, -18, 18, 54, 90]
        .map((offset) => `<path d="M${300 + offset} 372 Q${300 + offset * 0.9} 250 ${300 + offset * 0.35} 168" stroke="#9a4523" stroke-width="4" fill="none" opacity="0.45"/>`)
        .join("");
      return `${groundShadow(300, 470, 160)}
        <path d="M172 384 Q168 170 300 158 Q432 170 428 384 Z" fill="#b5532e"/>
        ${domeRibs}
        <ellipse cx="300" cy="160" rx="22" ry="12" fill="#9a4523"/>
        <rect x="156" y="358" width="288" height="96" rx="22" fill="#a04826"/>
        <clipPath id="beanie-cuff"><rect x="156" y="358" width="288" height="96" rx="22"/></clipPath>
        <g clip-path="url(#beanie-cuff)">${ribs}</g>
        <path d="M200 220 Q230 190 262 182" stroke="#ffffff" stroke-width="8" opacity="0.16" fill="none" stroke-linecap="round"/>`;
    },
  },
  "canvas-tote": {
    background: "#efeadf",
    disc: "#e4dccb",
    title: "A natural canvas tote bag with long handles",
    draw: () => `${groundShadow(300, 490, 170)}
      <path d="M238 236 C232 80 368 80 362 236" stroke="#bba87c" stroke-width="18" fill="none" stroke-linecap="round"/>
      <path d="M214 236 C206 104 394 104 386 236" stroke="#cdbb8f" stroke-width="18" fill="none" stroke-linecap="round"/>
      <path d="M166 228 L434 228 L450 482 L150 482 Z" fill="#dccb9f"/>
      <rect x="166" y="228" width="268" height="26" fill="#cdbb8f"/>
      <path d="M170 262 L430 262" stroke="#b8a57a" stroke-width="3" stroke-dasharray="8 7"/>
      <circle cx="336" cy="330" r="22" fill="#e07a5f"/>
      <path d="M230 410 L276 342 L304 380 L326 352 L372 410 Z" fill="#2f5d50"/>
      <path d="M262 362 L276 342 L290 362 Z" fill="#f7f3ea"/>
      <path d="M190 300 L182 460" stroke="#ffffff" stroke-width="6" opacity="0.18" stroke-linecap="round"/>`,
  },
  "daypack-20": {
    background: "#e7e5e0",
    disc: "#d9d5cd",
    title: "A black roll-top daypack with sand-coloured straps",
    colours: {
      Black: { title: "A black roll-top daypack with sand-coloured straps", recolour: {} },
      Sand: {
        title: "A sand-coloured roll-top daypack with brown straps",
        recolour: { "#2c2f33": "#c9b48a", "#3a3e43": "#d6c39b", "#1f2124": "#a8926a", "#363a3f": "#bfa97e", "#d8c7a3": "#5e4b30" },
      },
    },
    draw: () => `${groundShadow(300, 490, 140)}
      <path d="M196 220 Q160 300 176 430" stroke="#1f2124" stroke-width="22" fill="none" stroke-linecap="round"/>
      <path d="M404 220 Q440 300 424 430" stroke="#1f2124" stroke-width="22" fill="none" stroke-linecap="round"/>
      <rect x="194" y="150" width="212" height="326" rx="52" fill="#2c2f33"/>
      <rect x="204" y="104" width="192" height="76" rx="20" fill="#3a3e43"/>
      <path d="M214 128 L386 128 M214 150 L386 150" stroke="#2c2f33" stroke-width="4"/>
      <rect x="288" y="112" width="24" height="170" rx="4" fill="#d8c7a3"/>
      <rect x="282" y="270" width="36" height="26" rx="6" fill="#1f2124"/>
      <rect x="218" y="316" width="164" height="134" rx="30" fill="#363a3f"/>
      <path d="M236 338 L364 338" stroke="#d8c7a3" stroke-width="4" stroke-linecap="round"/>
      <circle cx="364" cy="338" r="6" fill="#d8c7a3"/>
      <path d="M214 210 L214 300" stroke="#ffffff" stroke-width="6" opacity="0.1" stroke-linecap="round"/>`,
  },
  sunglasses: {
    background: "#f5ecdb",
    disc: "#ecdcbf",
    title: "Tortoiseshell polarised sunglasses resting on a leather case",
    draw: () => {
      const lens = (cx: number) => `<rect x="${cx - 86}" y="228" width="172" height="132" rx="58" fill="#2f4b46"/>`;
      const rim = (cx: number) => `<rect x="${cx - 86}" y="228" width="172" height="132" rx="58" fill="none" stroke="#7a4a2a" stroke-width="16"/>
        <rect x="${cx - 86}" y="228" width="172" height="132" rx="58" fill="none" stroke="#b47a45" stroke-width="16" stroke-dasharray="10 26 4 18" opacity="0.8"/>`;
      const shine = (cx: number) => `<path d="M${cx - 52} 262 Q${cx - 30} 244 ${cx} 246" stroke="#ffffff" stroke-width="9" opacity="0.3" fill="none" stroke-linecap="round"/>`;
      return `${groundShadow(300, 474, 180)}
        <rect x="140" y="392" width="320" height="76" rx="38" fill="#8b5e3c"/>
        <rect x="154" y="404" width="292" height="52" rx="26" fill="none" stroke="#e8d3b4" stroke-width="3" stroke-dasharray="9 7" opacity="0.7"/>
        <path d="M118 256 L70 236 M482 256 L530 236" stroke="#7a4a2a" stroke-width="12" stroke-linecap="round"/>
        ${lens(200)}${lens(400)}
        ${shine(200)}${shine(400)}
        ${rim(200)}${rim(400)}
        <path d="M282 264 Q300 246 318 264" stroke="#7a4a2a" stroke-width="14" fill="none" stroke-linecap="round"/>`;
    },
  },
  "ceramic-mug": {
    background: "#ece4d9",
    disc: "#e0d3c2",
    title: "A sand-coloured stoneware mug with a slate glaze and steam",
    colours: {
      Sand: { title: "A sand-coloured stoneware mug with a slate glaze and steam", recolour: {} },
      Slate: {
        title: "A slate-coloured stoneware mug with a sand glaze and steam",
        recolour: { "#e3d3b6": "#66727c", "#d7c5a5": "#5a656e", "#5b6770": "#dccaa9", "#4a555d": "#cbb894" },
      },
    },
    draw: () => `${groundShadow(300, 470, 140)}
      <path d="M392 272 C470 268 470 404 392 398" stroke="#d7c5a5" stroke-width="28" fill="none" stroke-linecap="round"/>
      <path d="M200 222 L392 222 L392 430 Q392 462 360 462 L232 462 Q200 462 200 430 Z" fill="#e3d3b6"/>
      <path d="M200 222 L392 222 L392 288 Q374 304 358 288 Q342 314 320 292 Q300 308 280 290 Q256 316 236 292 Q216 304 200 288 Z" fill="#5b6770"/>
      <ellipse cx="296" cy="222" rx="96" ry="20" fill="#4a555d"/>
      <ellipse cx="296" cy="224" rx="82" ry="13" fill="#3a2b20"/>
      <path d="M226 320 L226 430" stroke="#ffffff" stroke-width="9" opacity="0.22" stroke-linecap="round"/>
      <g stroke="#ffffff" stroke-width="8" fill="none" stroke-linecap="round" opacity="0.75">
        <path d="M262 182 Q248 160 262 140 Q276 120 262 100"/>
        <path d="M298 176 Q284 150 298 128 Q312 106 298 84"/>
        <path d="M334 182 Q320 160 334 140 Q348 120 334 100"/>
      </g>`,
  },
  "desk-lamp": {
    background: "#f2eddf",
    disc: "#e8dfc6",
    title: "A dimmable steel desk lamp casting warm light",
    draw: () => `<ellipse cx="320" cy="478" rx="130" ry="18" fill="#ffd98a" opacity="0.55"/>
      <path d="M364 252 L226 478 L430 478 Z" fill="#ffe3a3" opacity="0.4"/>
      ${groundShadow(212, 476, 92, 14)}
      <rect x="128" y="446" width="168" height="26" rx="13" fill="#3f4b55"/>
      <line x1="212" y1="448" x2="262" y2="296" stroke="#56636e" stroke-width="14" stroke-linecap="round"/>
      <line x1="262" y1="296" x2="372" y2="190" stroke="#56636e" stroke-width="14" stroke-linecap="round"/>
      <circle cx="262" cy="296" r="15" fill="#3f4b55"/>
      <circle cx="212" cy="448" r="13" fill="#3f4b55"/>
      <g transform="translate(392 210) rotate(32)">
        <path d="M-34 -26 L34 -26 L66 48 L-66 48 Z" fill="#3f4b55"/>
        <ellipse cx="0" cy="48" rx="66" ry="12" fill="#ffd98a"/>
        <rect x="-14" y="-40" width="28" height="18" rx="6" fill="#2f3941"/>
        <path d="M-24 -14 L-44 36" stroke="#ffffff" stroke-width="6" opacity="0.15" stroke-linecap="round"/>
      </g>
      <circle cx="372" cy="190" r="13" fill="#3f4b55"/>`,
  },
  "linen-napkins": {
    background: "#e9edf3",
    disc: "#d9e0ea",
    title: "A stack of folded linen napkins in natural and indigo",
    draw: () => {
      const slabs = [
        { y: 420, colour: "#34497a", x: 150 },
        { y: 378, colour: "#e8dcc6", x: 160 },
        { y: 336, colour: "#34497a", x: 146 },
        { y: 294, colour: "#e8dcc6", x: 156 },
      ];
      const stack = slabs
        .map(
          (slab) => `<rect x="${slab.x}" y="${slab.y}" width="296" height="46" rx="12" fill="${slab.colour}"/>
          <rect x="${slab.x + 10}" y="${slab.y + 9}" width="276" height="28" rx="7" fill="none" stroke="${slab.colour === "#34497a" ? "#8fa2cc" : "#b9a784"}" stroke-width="2.5" stroke-dasharray="7 6"/>`,
        )
        .join("");
      return `${groundShadow(300, 474, 170)}
        ${stack}
        <path d="M156 294 L452 294 L452 250 Q452 238 440 238 L232 238 Z" fill="#f1e8d6"/>
        <path d="M232 238 L156 294" stroke="#cdbd9c" stroke-width="3"/>
        <ellipse cx="392" cy="266" rx="26" ry="14" fill="#c98b4a"/>
        <path d="M392 254 Q404 230 428 226 Q414 246 392 254 Z" fill="#2f5d50"/>
        <path d="M392 254 Q376 232 354 232 Q368 250 392 254 Z" fill="#5b8a6f"/>`;
    },
  },
  "water-bottle": {
    background: "#e4efed",
    disc: "#d0e4e1",
    title: "A teal insulated stainless-steel water bottle",
    draw: () => `${groundShadow(300, 486, 90)}
      <path d="M280 66 Q300 40 320 66" stroke="#2b2f33" stroke-width="12" fill="none" stroke-linecap="round"/>
      <rect x="262" y="70" width="76" height="64" rx="14" fill="#2b2f33"/>
      <rect x="262" y="120" width="76" height="14" fill="#3a3f44"/>
      <path d="M270 134 L330 134 L330 160 Q372 176 372 220 L372 440 Q372 478 334 478 L266 478 Q228 478 228 440 L228 220 Q228 176 270 160 Z" fill="#2f7f7a"/>
      <rect x="228" y="300" width="144" height="74" fill="#286b67"/>
      <path d="M266 318 L286 342 L300 330 L334 356" stroke="#cfe6e2" stroke-width="4" fill="none" stroke-linecap="round" stroke-linejoin="round"/>
      <path d="M252 212 L252 286 M252 392 L252 448" stroke="#ffffff" stroke-width="10" opacity="0.22" stroke-linecap="round"/>`,
  },
  "leather-notebook": {
    background: "#f2e8dd",
    disc: "#e8d6c4",
    title: "A vegetable-tanned leather notebook with a strap and a pen",
    draw: () => `${groundShadow(290, 484, 170)}
      <g transform="rotate(-5 300 300)">
        <rect x="190" y="130" width="240" height="336" rx="12" fill="#f4efe4"/>
        <path d="M422 140 L422 456" stroke="#d9d0bd" stroke-width="3"/>
        <rect x="176" y="122" width="240" height="340" rx="16" fill="#a8683c"/>
        <rect x="190" y="136" width="212" height="312" rx="10" fill="none" stroke="#e2b98f" stroke-width="3" stroke-dasharray="8 7" opacity="0.75"/>
        <path d="M246 320 L290 258 L314 290 L330 270 L366 320 Z" fill="#8d5430"/>
        <rect x="376" y="122" width="16" height="340" fill="#6e3f22"/>
        <path d="M300 462 L300 512 L312 500 L324 512 L324 462 Z" fill="#2f5d50"/>
      </g>
      <g transform="rotate(14 470 300)">
        <rect x="458" y="150" width="20" height="290" rx="10" fill="#2f5d50"/>
        <path d="M458 420 L468 456 L478 420 Z" fill="#c8c2b4"/>
        <rect x="474" y="162" width="6" height="90" rx="3" fill="#c8c2b4"/>
      </g>`,
  },
  "espresso-beans": {
    background: "#f0e6da",
    disc: "#e6d4bf",
    title: "A kraft bag of espresso beans with beans scattered in front",
    draw: () => `${groundShadow(300, 486, 170)}
      <path d="M196 176 L404 176 L420 470 L180 470 Z" fill="#b8905f"/>
      <path d="M196 176 L220 470 L180 470 Z" fill="#a07b4d"/>
      <rect x="190" y="138" width="220" height="44" rx="5" fill="#9c774a"/>
      <rect x="184" y="150" width="232" height="12" rx="6" fill="#a8a8a2"/>
      <path d="M204 138 L214 126 L224 138 L234 126 L244 138 L254 126 L264 138 L274 126 L284 138 L294 126 L304 138 L314 126 L324 138 L334 126 L344 138 L354 126 L364 138 L374 126 L384 138 L394 126 L404 138 Z" fill="#9c774a"/>
      <rect x="236" y="256" width="132" height="120" rx="12" fill="#f4ede1"/>
      <circle cx="302" cy="300" r="26" fill="#2f5d50"/>
      ${bean(302, 300, -30, 0.9)}
      <rect x="262" y="340" width="80" height="8" rx="4" fill="#c9b79a"/>
      <rect x="276" y="354" width="52" height="6" rx="3" fill="#ddd0b9"/>
      ${bean(176, 462, 20)}${bean(212, 476, -25)}${bean(402, 470, 35)}${bean(438, 456, -10)}${bean(378, 486, 70)}${bean(150, 484, -60, 0.9)}`,
  },
  "limited-print": {
    background: "#ece8e1",
    disc: "#dfd9ce",
    title: "A framed riso print of mountains under a pink sun",
    draw: () => `<ellipse cx="300" cy="486" rx="150" ry="14" fill="#1d2420" opacity="0.08"/>
      <path d="M300 60 L214 112 M300 60 L386 112" stroke="#7d766b" stroke-width="3"/>
      <circle cx="300" cy="60" r="6" fill="#7d766b"/>
      <rect x="176" y="106" width="256" height="362" rx="4" fill="#1d1f22" transform="translate(8 8)" opacity="0.15"/>
      <rect x="176" y="106" width="256" height="362" rx="4" fill="#2a2a2c"/>
      <rect x="190" y="120" width="228" height="334" fill="#f7f3ea"/>
      <rect x="214" y="146" width="180" height="250" fill="#fbe9e4"/>
      <circle cx="330" cy="216" r="36" fill="#ef6f8b" opacity="0.9"/>
      <path d="M214 396 L214 322 L270 240 L318 312 L344 282 L394 350 L394 396 Z" fill="#3a6fc4" style="mix-blend-mode:multiply" opacity="0.9"/>
      <path d="M214 396 L214 356 L252 318 L300 360 L340 326 L394 380 L394 396 Z" fill="#ef6f8b" style="mix-blend-mode:multiply" opacity="0.85"/>
      <path d="M256 262 L270 240 L284 262 L276 258 L270 264 L262 258 Z" fill="#f7f3ea"/>
      <path d="M330 424 Q338 414 346 424 Q352 432 360 420 Q366 412 376 422" stroke="#7d766b" stroke-width="2.5" fill="none" stroke-linecap="round"/>
      <line x1="232" y1="424" x2="258" y2="424" stroke="#7d766b" stroke-width="2.5" stroke-linecap="round"/>`,
  },
};

function render(illustration: Illustration, colour?: { title: string; recolour: Record<string, string> }): string {
  // Only the drawing is recoloured: the background and disc stay the product's.
  const drawing = Object.entries(colour?.recolour ?? {}).reduce((svg, [from, to]) => svg.replaceAll(from, to), illustration.draw().trim());
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${SIZE} ${SIZE}" width="${SIZE}" height="${SIZE}" role="img">
  <title>${colour?.title ?? illustration.title}</title>
  <rect width="${SIZE}" height="${SIZE}" fill="${illustration.background}"/>
  <circle cx="300" cy="290" r="220" fill="${illustration.disc}"/>
  ${drawing}
</svg>
`;
}

const tidy = (svg: string) =>
  svg
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n");

const outputDirectory = join(dirname(fileURLToPath(import.meta.url)), "..", "public", "images", "products");
mkdirSync(outputDirectory, { recursive: true });

const missing = seedProducts.filter((product) => !illustrations[product.id]).map((product) => product.id);
if (missing.length > 0) {
  console.error(`No illustration for: ${missing.join(", ")}. Add one to scripts/generate-product-images.ts.`);
  process.exit(1);
}

/** The colour pictures the seed's variants point at: file name → the product and the colour it shows. */
const colourPictures = new Map<string, { productId: string; colour: string }>();
for (const product of seedProducts) {
  for (const variant of product.variants) {
    const colour = variant.options.colour;
    if (variant.image && colour) colourPictures.set(basename(variant.image), { productId: product.id, colour });
  }
}
const undrawn = [...colourPictures.values()].filter(({ productId, colour }) => !illustrations[productId]?.colours?.[colour]);
if (undrawn.length > 0) {
  console.error(`No colour drawing for: ${undrawn.map(({ productId, colour }) => `${productId} ${colour}`).join(", ")}. Add it to scripts/generate-product-images.ts.`);
  process.exit(1);
}

for (const product of seedProducts) {
  const illustration = illustrations[product.id];
  if (!illustration) continue;
  writeFileSync(join(outputDirectory, `${product.id}.svg`), tidy(render(illustration)));
}
for (const [file, { productId, colour }] of colourPictures) {
  const illustration = illustrations[productId];
  if (illustration) writeFileSync(join(outputDirectory, file), tidy(render(illustration, illustration.colours?.[colour])));
}
console.log(`Wrote ${seedProducts.length} product images and ${colourPictures.size} colour images to ${outputDirectory}`);
