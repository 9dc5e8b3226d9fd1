// Builds the population of the simulated cPanel server (see gen_world.h). All names are
// made up from word lists; IPv4 addresses are drawn from commonly routed public /8s.
#include "gen_world.h"

#include <set>

namespace sw::bench::gen {
namespace {

const char* const kWords[] = {
    "bright",  "smile",    "dental",  "green",  "valley",   "auto",   "parts",   "river",   "stone",   "coffee",
    "garden",  "pixel",    "studio",  "north",  "coast",    "legal",  "law",     "home",    "care",    "pet",
    "clinic",  "bakery",   "sun",     "moon",   "ocean",    "urban",  "fit",     "yoga",    "travel",  "tour",
    "hotel",   "villa",    "beach",   "print",  "media",    "design", "web",     "craft",   "wood",    "metal",
    "fashion", "boutique", "kids",    "toy",    "book",     "music",  "guitar",  "photo",   "wedding", "event",
    "farm",    "fresh",    "organic", "wine",   "brew",     "pizza",  "grill",   "sushi",   "cafe",    "tea",
    "tech",    "soft",     "data",    "cloud",  "net",      "host",   "secure",  "fix",     "repair",  "plumb",
    "roof",    "build",    "house",   "realty", "estate",   "invest", "capital", "finance", "tax",     "account",
    "school",  "learn",    "academy", "tutor",  "church",   "grace",  "hope",    "faith",   "star",    "light",
    "harbour", "bay",      "lake",    "hill",   "mountain", "forest", "eagle",   "wolf",    "lion",    "bear",
    "red",     "blue",     "gold",    "silver", "prime",    "best",   "smart",   "easy",    "quick",   "pro",
    "city",    "metro",    "global",  "local",  "euro",     "asia",   "latino",  "nordic",  "alpine",  "desert",
    "motor",   "bike",     "cycle",   "car",    "truck",    "fleet",  "cargo",   "ship",    "air",     "jet",
    "beauty",  "salon",    "spa",     "nail",   "hair",     "skin",   "body",    "health",  "vita",    "nutri",
};
const char* const kTlds[] = {".com",   ".com",    ".com", ".com",    ".com",   ".net",   ".org",
                             ".co.uk", ".com.br", ".de",  ".com.au", ".in",    ".store", ".online",
                             ".ca",    ".nl",     ".es",  ".it",     ".co.za", ".info"};
const char* const kFirst[] = {
    "john",   "maria",  "david",  "sarah",   "michael", "laura",  "james",  "anna",   "robert", "emma",
    "daniel", "olivia", "paul",   "sophie",  "mark",    "julia",  "peter",  "lisa",   "thomas", "nina",
    "carlos", "ana",    "luis",   "sofia",   "jose",    "lucia",  "ahmed",  "fatima", "ali",    "aisha",
    "raj",    "priya",  "amit",   "neha",    "wei",     "li",     "chen",   "mei",    "yuki",   "kenji",
    "ivan",   "olga",   "sergei", "elena",   "lukas",   "lena",   "jan",    "eva",    "pierre", "claire",
    "marco",  "giulia", "kevin",  "jessica", "brian",   "amanda", "steve",  "karen",  "tom",    "kate",
    "alex",   "sam",    "chris",  "pat",     "jordan",  "taylor", "morgan", "casey",  "jamie",  "robin",
    "george", "helen",  "frank",  "diana",   "henry",   "grace",  "oscar",  "ruby",   "leo",    "mia",
};
const char* const kLast[] = {
    "smith",    "johnson",   "williams", "brown",    "jones",    "garcia",   "miller",  "davis",     "rodriguez",
    "martinez", "hernandez", "lopez",    "gonzalez", "wilson",   "anderson", "thomas",  "taylor",    "moore",
    "jackson",  "martin",    "lee",      "perez",    "thompson", "white",    "harris",  "sanchez",   "clark",
    "ramirez",  "lewis",     "robinson", "walker",   "young",    "allen",    "king",    "wright",    "scott",
    "torres",   "nguyen",    "hill",     "flores",   "green",    "adams",    "nelson",  "baker",     "hall",
    "rivera",   "campbell",  "mitchell", "carter",   "roberts",  "mueller",  "schmidt", "schneider", "fischer",
    "weber",    "meyer",     "wagner",   "becker",   "rossi",    "russo",    "ferrari", "silva",     "santos",
    "oliveira", "souza",     "kumar",    "sharma",   "patel",    "singh",    "wang",    "zhang",     "ivanov",
    "petrov",   "kowalski",  "nowak",    "dubois",   "moreau",   "laurent",  "jansen",  "devries",
};
const char* const kRoleBoxes[] = {"info",      "sales",    "admin",     "contact",   "support", "office",
                                  "billing",   "hr",       "accounts",  "marketing", "orders",  "hello",
                                  "webmaster", "bookings", "reception", "team"};
const char* const kScriptDirs[] = {"",
                                   "/wp-admin",
                                   "/contact",
                                   "/shop",
                                   "/forum",
                                   "/crm",
                                   "/store",
                                   "/blog",
                                   "/booking",
                                   "/portal",
                                   "/wp-admin",
                                   "",
                                   "/wordpress",
                                   "/members",
                                   "/clients",
                                   "/cart",
                                   "/app/public",
                                   "/helpdesk",
                                   "/newsletter",
                                   "/events"};
const uint8_t kFirstOctets[] = {
    2,   5,   23,  24,  31,  37,  41,  45,  46,  47,  49,  50,  58,  59,  60,  61,  62,  64,  65,  66,  67,  68,  69,
    70,  71,  72,  73,  74,  75,  76,  77,  78,  79,  80,  81,  82,  83,  84,  85,  86,  87,  88,  89,  90,  91,  92,
    93,  94,  95,  96,  97,  98,  99,  101, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117,
    118, 119, 120, 121, 122, 123, 124, 125, 136, 139, 141, 146, 149, 151, 154, 156, 157, 159, 161, 162, 163, 164, 165,
    167, 168, 170, 171, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 185, 186, 187, 188, 189, 190, 191, 193,
    194, 195, 196, 197, 200, 201, 202, 206, 207, 208, 209, 210, 211, 212, 213, 216, 217, 218, 219, 220, 221, 222, 223};
const char* const kBotHelos[] = {"User",    "localhost",
                                 "ylmf-pc", "WIN-CLJ1B0GQ6JP",
                                 "ADMIN",   "mail.example.com",
                                 "desktop", "windows",
                                 "email",   "smtp.gmail.com",
                                 "test",    "hello",
                                 "USER-PC", "ubuntu",
                                 "mx",      "spam.biz",
                                 "server",  "PC",
                                 "HELO",    "default",
                                 "client",  "mail",
                                 "info",    "User-PC"};
const char* const kMuaHelos[] = {
    "DESKTOP-7QK2M4P", "MacBook-Pro.local", "[192.168.1.23]",  "LAPTOP-3HF8D2KQ",  "android-5b7c9e1a", "iPhone",
    "[10.0.0.12]",     "OFFICE-PC",         "DESKTOP-V1R9JTE", "Johns-iMac.local", "[192.168.0.104]",  "WORKSTATION1"};
const char* const kIspNames[] = {
    "dsl.telekom.net",          "cable.virginm.net", "res.rr.com",        "comcast.net",
    "dynamic.163data.com.cn",   "static.vnpt.vn",    "bb.sky.com",        "ip.btcentralplus.com",
    "fibertel.com.ar",          "dynamic.ziggo.nl",  "customer.tele2.se", "pool.telefonica.de",
    "dsl.brasiltelecom.net.br", "adsl.free.fr",      "ttnet.com.tr",      "broadband.airtel.in"};

std::string ipv4(Rng& rng) {
  std::string s;
  s += std::to_string(kFirstOctets[rng.below(sizeof kFirstOctets)]);
  for (int k = 0; k < 3; ++k) {
    s += '.';
    s += std::to_string(k == 2 ? rng.range(1, 254) : rng.below(256));
  }
  return s;
}

std::string dashed(const std::string& ip) {
  std::string s = ip;
  for (char& c : s)
    if (c == '.') c = '-';
  return s;
}

std::string hex4(Rng& rng) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  uint32_t v = rng.below(0x10000);
  bool started = false;
  for (int sh = 12; sh >= 0; sh -= 4) {
    uint32_t d = (v >> sh) & 15;
    if (d || started || sh == 0) {
      s += kHex[d];
      started = true;
    }
  }
  return s;
}

std::string make_domain_name(Rng& rng, std::set<std::string>& taken) {
  for (;;) {
    std::string n = kWords[rng.below(sizeof kWords / sizeof *kWords)];
    if (rng.chance(0.25)) n += '-';
    n += kWords[rng.below(sizeof kWords / sizeof *kWords)];
    if (rng.chance(0.1)) n += std::to_string(rng.range(1, 99));
    n += kTlds[rng.below(sizeof kTlds / sizeof *kTlds)];
    if (taken.insert(n).second) return n;
  }
}

std::string make_user_name(const std::string& domain, std::set<std::string>& taken) {
  std::string base;
  for (char c : domain) {
    if (c == '.') break;
    if (c >= 'a' && c <= 'z') base += c;
    if (base.size() == 8) break;
  }
  if (base.empty()) base = "user";
  std::string n = base;
  for (int k = 1; !taken.insert(n).second; ++k) n = base.substr(0, 7) + std::to_string(k);
  return n;
}

void add_remote(World& w, std::string name, Provider p, Rng& rng) {
  RemoteDomain r{std::move(name), p, {}, {}};
  switch (p) {
    case Provider::kGmail:
    case Provider::kWorkspace:
      r.mx = p == Provider::kGmail ? "gmail-smtp-in.l.google.com" : "aspmx.l.google.com";
      r.mx_ip = "142.250." + std::to_string(rng.range(4, 159)) + "." + std::to_string(26 + rng.below(2));
      break;
    case Provider::kOutlook:
      r.mx = r.name.substr(0, r.name.find('.')) + "-com.olc.protection.outlook.com";
      r.mx_ip = "52.101." + std::to_string(rng.range(8, 200)) + "." + std::to_string(rng.range(1, 60));
      break;
    case Provider::kO365: {
      std::string d = r.name;
      for (char& c : d)
        if (c == '.') c = '-';
      r.mx = d + ".mail.protection.outlook.com";
      r.mx_ip = "52.101." + std::to_string(rng.range(8, 200)) + "." + std::to_string(rng.range(1, 60));
      break;
    }
    case Provider::kYahoo:
      r.mx = "mta" + std::to_string(rng.range(5, 7)) + ".am0.yahoodns.net";
      r.mx_ip = "67.195.204." + std::to_string(rng.range(72, 79));
      break;
    case Provider::kGeneric:
    case Provider::kExim:
      r.mx = (rng.chance(0.5) ? "mx." : "mail.") + r.name;
      r.mx_ip = ipv4(rng);
      break;
  }
  w.remote.push_back(std::move(r));
}

Client bot_client(Rng& rng) {
  Client c;
  c.ip = ipv4(rng);
  uint32_t form = rng.below(10);
  if (form < 6) {
    c.fullhost = "(" + std::string(kBotHelos[rng.below(sizeof kBotHelos / sizeof *kBotHelos)]) + ") ";
  } else if (form < 7) {
    c.fullhost = "";  // HELO was an IP literal equal to the address: Exim does not show it
  } else if (form < 9) {
    c.fullhost = "([" + ipv4(rng) + "]) ";  // HELO claims some other address
  } else {
    c.fullhost = "ip-" + dashed(c.ip) + "." + kIspNames[rng.below(sizeof kIspNames / sizeof *kIspNames)] + " (" +
                 kBotHelos[rng.below(sizeof kBotHelos / sizeof *kBotHelos)] + ") ";
  }
  return c;
}

Client mua_client(Rng& rng) {
  Client c;
  if (rng.chance(0.04)) {  // a few users reach us over IPv6
    c.ip = "2a02:" + hex4(rng) + ":" + hex4(rng) + ":" + hex4(rng) + ":" + hex4(rng) + ":" + hex4(rng) + ":" +
           hex4(rng) + ":" + hex4(rng);
  } else {
    c.ip = ipv4(rng);
  }
  std::string helo = kMuaHelos[rng.below(sizeof kMuaHelos / sizeof *kMuaHelos)];
  if (rng.chance(0.45) && c.ip.find(':') == std::string::npos)
    c.fullhost = dashed(c.ip) + "." + kIspNames[rng.below(sizeof kIspNames / sizeof *kIspNames)] + " (" + helo + ") ";
  else c.fullhost = "(" + helo + ") ";
  return c;
}

Client mta_client(Rng& rng, const RemoteDomain& rd) {
  Client c;
  switch (rd.provider) {
    case Provider::kGmail:
    case Provider::kWorkspace: {
      static const char* const kPre[] = {"wr1", "ej1", "ed1", "lf1", "pl1", "oi1", "qk1", "yb1", "pf1", "wm1"};
      std::string pre = kPre[rng.below(10)];
      uint32_t n = rng.range(41, 230);
      if (rng.chance(0.15)) {  // Google also connects over IPv6
        c.ip = "2a00:1450:4864:20::" + hex4(rng);
        c.fullhost = "mail-" + pre + "-x" + hex4(rng) + ".google.com ";
      } else {
        c.ip = "209.85." + std::to_string(rng.range(128, 222)) + "." + std::to_string(n);
        c.fullhost = "mail-" + pre + "-f" + std::to_string(n) + ".google.com ";
      }
      break;
    }
    case Provider::kOutlook:
    case Provider::kO365: {
      static const char* const kReg[][2] = {{"eur05", "am6"}, {"eur04", "db8"}, {"eur02", "vi1"}, {"nam10", "dm6"},
                                            {"nam12", "bn8"}, {"apc01", "sg2"}, {"nam11", "co1"}, {"eur03", "he1"}};
      const auto& reg = kReg[rng.below(8)];
      uint32_t n = rng.range(2001, 2200);
      c.ip = "40.107." + std::to_string(rng.range(1, 250)) + "." + std::to_string(n - 2000);
      std::string helo = std::string(reg[0]) + "-" + reg[1];
      for (char& ch : helo)
        if (ch >= 'a' && ch <= 'z') ch = char(ch - 32);
      c.fullhost = "mail-" + std::string(reg[1]) + reg[0] + "on" + std::to_string(n) +
                   ".outbound.protection.outlook.com (" + helo + "-obe.outbound.protection.outlook.com) ";
      break;
    }
    case Provider::kYahoo: {
      uint32_t a = rng.range(301, 330), b = rng.range(1, 30);
      c.ip = "66.163." + std::to_string(rng.range(184, 191)) + "." + std::to_string(rng.range(1, 250));
      c.fullhost = "sonic" + std::to_string(a) + "-" + std::to_string(b) + ".consmr.mail.ne1.yahoo.com ";
      break;
    }
    case Provider::kGeneric:
    case Provider::kExim: {
      c.ip = ipv4(rng);
      uint32_t form = rng.below(10);
      std::string host = (rng.chance(0.5) ? "mail." : "smtp.") + rd.name;
      if (form < 6) c.fullhost = host + " ";
      else if (form < 8) c.fullhost = "server" + std::to_string(rng.range(1, 9)) + "." + rd.name + " (" + host + ") ";
      else c.fullhost = "(" + host + ") ";
      break;
    }
  }
  return c;
}

}  // namespace

void append_token(std::string& dst, Rng& rng, int len) {
  static const char kAlnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (int k = 0; k < len; ++k) dst += kAlnum[rng.below(k == 0 ? 26 : 36)];
}

void append_remote_person(std::string& dst, Rng& rng, const World& w, uint32_t rd) {
  const char* f = kFirst[rng.below(sizeof kFirst / sizeof *kFirst)];
  const char* l = kLast[rng.below(sizeof kLast / sizeof *kLast)];
  switch (rng.below(6)) {
    case 0: dst += f; break;
    case 1:
      dst += f;
      dst += '.';
      dst += l;
      break;
    case 2:
      dst += f[0];
      dst += l;
      break;
    case 3:
      dst += f;
      dst += l;
      dst += std::to_string(rng.range(1, 1999));
      break;
    case 4:
      dst += f;
      dst += '_';
      dst += l;
      break;
    default:
      dst += l;
      dst += '.';
      dst += f;
      break;
  }
  dst += '@';
  dst += w.remote[rd].name;
}

uint32_t pick_remote_domain(Rng& rng, const World& w) {
  if (rng.chance(0.55)) return rng.skewed(w.n_big, 2.0);
  return w.n_big + rng.skewed(uint32_t(w.remote.size()) - w.n_big, 1.6);
}

World build_world(uint64_t seed) {
  World w;
  Rng rng(seed ^ 0x5eedf00dull);
  std::set<std::string> dom_taken, user_taken;

  // Remote world: big providers first (index order matters for pick_remote_domain's skew).
  add_remote(w, "gmail.com", Provider::kGmail, rng);
  add_remote(w, "yahoo.com", Provider::kYahoo, rng);
  add_remote(w, "hotmail.com", Provider::kOutlook, rng);
  add_remote(w, "outlook.com", Provider::kOutlook, rng);
  add_remote(w, "icloud.com", Provider::kGeneric, rng);
  add_remote(w, "aol.com", Provider::kYahoo, rng);
  add_remote(w, "live.com", Provider::kOutlook, rng);
  add_remote(w, "googlemail.com", Provider::kGmail, rng);
  add_remote(w, "yahoo.co.uk", Provider::kYahoo, rng);
  add_remote(w, "gmx.de", Provider::kGeneric, rng);
  add_remote(w, "web.de", Provider::kGeneric, rng);
  add_remote(w, "mail.ru", Provider::kGeneric, rng);
  add_remote(w, "orange.fr", Provider::kGeneric, rng);
  add_remote(w, "comcast.net", Provider::kGeneric, rng);
  add_remote(w, "btinternet.com", Provider::kYahoo, rng);
  add_remote(w, "uol.com.br", Provider::kGeneric, rng);
  w.n_big = uint32_t(w.remote.size());
  for (int k = 0; k < 6000; ++k) {
    uint32_t p = rng.below(10);
    Provider prov = p < 4   ? Provider::kO365
                    : p < 6 ? Provider::kWorkspace
                    : p < 7 ? Provider::kExim
                            : Provider::kGeneric;
    add_remote(w, make_domain_name(rng, dom_taken), prov, rng);
  }

  // Local users, domains and mailboxes. Planted users get fixed names first.
  struct Fixed {
    const char* user;
    const char* domain;
  };
  const Fixed fixed[] = {{"userx1", "userx1-travel.com"},
                         {"harbourl", "harbourlight-dental.com"},
                         {"printpro", "printpro-online.net"},
                         {"greenval", "greenvalley-farm.org"},
                         {"lumashop", "lumashop.com"}};
  const uint32_t kUsers = 3200;
  for (uint32_t k = 0; k < kUsers; ++k) {
    std::string dname, uname;
    if (k < std::size(fixed)) {
      dname = fixed[k].domain;
      uname = fixed[k].user;
      dom_taken.insert(dname);
      user_taken.insert(uname);
    } else {
      dname = make_domain_name(rng, dom_taken);
      uname = make_user_name(dname, user_taken);
    }
    uint32_t u = uint32_t(w.users.size());
    w.users.push_back({uname, 1000 + u * 3 + rng.below(3), uint32_t(w.domains.size())});
    uint32_t n_domains = 1 + (rng.chance(0.3) ? 1 + rng.below(3) : 0);
    for (uint32_t d = 0; d < n_domains; ++d) {
      std::string name = d == 0 ? dname : make_domain_name(rng, dom_taken);
      uint32_t di = uint32_t(w.domains.size());
      uint32_t n_boxes = 1 + rng.skewed(14, 1.8);
      w.domains.push_back({name, u, uint32_t(w.boxes.size()), n_boxes});
      std::set<std::string> locals;
      for (uint32_t b = 0; b < n_boxes; ++b) {
        std::string local;
        do {
          uint32_t style = rng.below(3);
          if (style == 0) local = kRoleBoxes[rng.below(sizeof kRoleBoxes / sizeof *kRoleBoxes)];
          else if (style == 1) local = kFirst[rng.below(sizeof kFirst / sizeof *kFirst)];
          else
            local = std::string(kFirst[rng.below(sizeof kFirst / sizeof *kFirst)]) + "." +
                    kLast[rng.below(sizeof kLast / sizeof *kLast)];
        } while (!locals.insert(local).second);
        Mailbox mb{local, di, BoxKind::kMailbox, {}, {}, 0};
        uint32_t kind = rng.below(100);
        if (kind < 9) {
          mb.kind = BoxKind::kForwardRemote;
        } else if (kind < 11) {
          mb.kind = BoxKind::kForwardTwoLevel;
          mb.middle = "team-" + local + "@" + name;
        } else if (kind < 12) {
          mb.kind = BoxKind::kPipe;
        } else if (kind < 17) {
          mb.kind = BoxKind::kFilterNull;
        }
        if (mb.kind == BoxKind::kForwardRemote || mb.kind == BoxKind::kForwardTwoLevel) {
          mb.forward_rd = rng.below(w.n_big);
          append_remote_person(mb.forward, rng, w, mb.forward_rd);
        }
        uint32_t bi = uint32_t(w.boxes.size());
        w.boxes.push_back(std::move(mb));
        if (w.boxes[bi].kind == BoxKind::kMailbox || w.boxes[bi].kind == BoxKind::kFilterNull)
          if (rng.chance(0.6)) w.auth_boxes.push_back(bi);
      }
    }
    // PHP script directories: most sites have one or two places that call mail().
    uint32_t n_scripts = rng.chance(0.15) ? 0 : 1 + rng.skewed(3, 2.0);
    for (uint32_t s = 0; s < n_scripts; ++s) {
      Script sc;
      sc.user = u;
      const std::string& site = w.domains[w.users[u].main_domain].name;
      sc.cwd = "/home/" + uname + "/public_html" + kScriptDirs[rng.below(sizeof kScriptDirs / sizeof *kScriptDirs)];
      if (s > 0 && n_domains > 1) sc.cwd = "/home/" + uname + "/" + w.domains[w.domains.size() - 1].name;
      uint32_t a = rng.below(10);
      if (a < 6) {
        sc.args = "3 args: /usr/sbin/sendmail -t -i";
        sc.sender = uname + "@" + kHostname;
      } else if (a < 9) {
        sc.sender = (rng.chance(0.5) ? "wordpress@" : "noreply@") + site;
        sc.args = "4 args: /usr/sbin/sendmail -t -i -f" + sc.sender;
      } else {
        sc.sender = "no-reply@" + site;
        sc.args = "5 args: /usr/sbin/sendmail -t -i -f " + sc.sender;
      }
      w.scripts.push_back(std::move(sc));
    }
  }

  auto shuffle = [&](auto& v) {
    for (size_t k = v.size(); k > 1; --k) std::swap(v[k - 1], v[rng.below(uint32_t(k))]);
  };
  shuffle(w.scripts);  // only background scripts so far; planted ones are appended below
  shuffle(w.auth_boxes);
  for (uint32_t k = 0; k < w.domains.size(); ++k) w.domain_rank.push_back(k);
  for (uint32_t k = 0; k < w.users.size(); ++k) w.user_rank.push_back(k);
  shuffle(w.domain_rank);
  shuffle(w.user_rank);

  // Planted: see gen_mainlog.cc for the story of each.
  w.u_script = 0;
  w.u_compromised = 1;
  w.u_randsend = 2;
  w.u_backscatter = 3;
  w.u_shop = 4;
  w.script_spam = uint32_t(w.scripts.size());
  w.scripts.push_back({w.u_script, "/home/userx1/public_html/wp-content/uploads/x", "3 args: /usr/sbin/sendmail -t -i",
                       std::string("userx1@") + kHostname});
  w.script_shop = uint32_t(w.scripts.size());
  w.scripts.push_back({w.u_shop, "/home/lumashop/public_html/store",
                       "4 args: /usr/sbin/sendmail -t -i -forders@lumashop.com", "orders@lumashop.com"});
  auto add_box = [&](uint32_t user, const char* local) {
    uint32_t d = w.users[user].main_domain;
    uint32_t bi = uint32_t(w.boxes.size());
    w.boxes.push_back({local, d, BoxKind::kMailbox, {}, {}, 0});
    return bi;
  };
  // These mailboxes are outside their domain's [first_box, n_boxes) range on purpose:
  // background traffic does not pick them, only their own story does (plus a little
  // normal use added explicitly by the simulation).
  w.box_compromised = add_box(w.u_compromised, "sales");
  w.box_backscatter = add_box(w.u_backscatter, "accounts");
  w.box_shop_archive = add_box(w.u_shop, "orders");
  w.dict_client = {"(WIN-2N4P5F8K1QH) ", "45.137.21.9"};
  w.webmail_client = {std::string("localhost (") + kHostname + ") ", "127.0.0.1"};
  w.randsend_client = {"localhost (printpro-online.net) ", "127.0.0.1"};
  for (int k = 0; k < 320; ++k) w.compromised_clients.push_back(bot_client(rng));
  for (int k = 0; k < 64; ++k) w.brute_clients.push_back(bot_client(rng));

  // Remote senders and clients.
  for (int k = 0; k < 16000; ++k) {
    uint32_t rd = pick_remote_domain(rng, w);
    w.inbound_mtas.push_back(mta_client(rng, w.remote[rd]));
    w.inbound_mta_domain.push_back(uint16_t(rd));
  }
  for (int k = 0; k < 7000; ++k) w.auth_clients.push_back(mua_client(rng));
  for (int k = 0; k < 26000; ++k) w.bot_clients.push_back(bot_client(rng));
  return w;
}

}  // namespace sw::bench::gen
