/* Safety Partnership Atlas: small clientside helpers (no server round trip). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  atlas: {
    /* After a city is picked, empty the city search box so the next name starts afresh
       (Dash keeps the typed text: "Memphis" + "Toledo" searched for "MemphisToledo"). */
    clearSearch: function () {
      return "";
    }
  }
});
