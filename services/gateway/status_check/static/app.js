// Cek Bansos: sends the query to POST /cek-bansos/status and shows the programmes (no token, nothing stored).
"use strict";
const STATUS = {
  scheduled: "dijadwalkan",
  at_payer: "siap diambil di juru bayar",
  paid: "sudah diterima",
  failed: "gagal disalurkan — hubungi kantor kelurahan",
  on_hold: "ditahan — hubungi kantor kelurahan",
};
const form = document.getElementById("cek");
const out = document.getElementById("hasil");
form.addEventListener("change", () => {
  const byNik = form.by.value === "nik";
  document.getElementById("nik").hidden = !byNik;
  document.getElementById("kel").hidden = byNik;
});
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { name: form.elements.namedItem("name").value.trim() };
  if (form.by.value === "nik") body.nik = form.nik.value.trim();
  else body.kelurahan_code = form.kelurahan_code.value.trim();
  out.textContent = "Mencari…";
  const response = await fetch("status", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  out.replaceChildren();
  if (!response.ok) {
    out.textContent = answer.detail || "Terjadi kesalahan; coba lagi nanti.";
    return;
  }
  if (answer.programmes.length === 0) {
    out.textContent = "Tidak ada bantuan pada tahap berjalan untuk data yang dimasukkan.";
    return;
  }
  const list = document.createElement("ul");
  for (const p of answer.programmes) {
    const item = document.createElement("li");
    item.textContent = `${p.programme_code} tahap ${p.tahap}: ${STATUS[p.payment_status] || p.payment_status}`;
    list.append(item);
  }
  out.append(list);
});
