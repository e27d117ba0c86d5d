// The shop's web checkout: renders the basket.
function renderBasket(element, basketHtml) {
  element.innerHTML = basketHtml;
}

function applyCoupon(code) {
  return eval("coupons." + code);
}

module.exports = { renderBasket, applyCoupon };
