/*
 * text/stopwords.c - built-in stop-word lists.
 *
 * Compiled by hand for lift: function words (articles, pronouns,
 * auxiliaries, prepositions, conjunctions, common adverbs) of each
 * language. For English, German, French, Spanish and Portuguese the
 * Snowball project's stop-word lists (snowballstem.org, algorithms/<lang>/
 * stop.txt) were the reference for which word classes to cover; the
 * entries here are written out anew, and deliberately leave out words
 * that carry intent in marketing text (English "free", "now", "call",
 * "not", "no", "only", "very" are kept as content). Chinese follows the
 * common function characters and words of the lists circulated with
 * Chinese NLP toolkits (HIT, Baidu): particles, pronouns, prepositions and
 * conjunctions; since Chinese text is read as character unigrams and
 * bigrams, single characters and two-character words are what can match.
 * Sizes are in docs/TEXT.md; a test checks them. The analyser
 * NFKC-case-folds every entry, so they are written in lower case.
 */
#include "text/analyze.h"

static const char *const en[] = {
    "a",          "about",   "above",     "after",   "again",      "against",
    "all",        "am",      "an",        "and",     "any",        "are",
    "as",         "at",      "be",        "because", "been",       "before",
    "being",      "below",   "between",   "both",    "but",        "by",
    "could",      "did",     "do",        "does",    "doing",      "down",
    "during",     "each",    "few",       "for",     "from",       "further",
    "had",        "has",     "have",      "having",  "he",         "he'd",
    "he'll",      "he's",    "her",       "here",    "hers",       "herself",
    "him",        "himself", "his",       "how",     "i",          "i'd",
    "i'll",       "i'm",     "i've",      "if",      "in",         "into",
    "is",         "it",      "it's",      "its",     "itself",     "let's",
    "me",         "more",    "most",      "my",      "myself",     "of",
    "off",        "on",      "once",      "or",      "other",      "ought",
    "our",        "ours",    "ourselves", "out",     "over",       "own",
    "same",       "she",     "she'd",     "she'll",  "she's",      "should",
    "so",         "some",    "such",      "than",    "that",       "that's",
    "the",        "their",   "theirs",    "them",    "themselves", "then",
    "there",      "there's", "these",     "they",    "they'd",     "they'll",
    "they're",    "they've", "this",      "those",   "through",    "to",
    "too",        "under",   "until",     "up",      "was",        "we",
    "we'd",       "we'll",   "we're",     "we've",   "were",       "what",
    "what's",     "when",    "where",     "which",   "while",      "who",
    "whom",       "why",     "with",      "would",   "you",        "you'd",
    "you'll",     "you're",  "you've",    "your",    "yours",      "yourself",
    "yourselves", NULL};

static const char *const zh[] = {
    "的",   "了",   "是",   "在",   "和",   "就",   "都",   "而",   "及",
    "与",   "着",   "或",   "一个", "没有", "我们", "你们", "他们", "她们",
    "它们", "我",   "你",   "他",   "她",   "它",   "这",   "那",   "这个",
    "那个", "这些", "那些", "之",   "其",   "也",   "还",   "又",   "被",
    "把",   "给",   "让",   "从",   "向",   "对",   "于",   "以",   "为",
    "因为", "所以", "但是", "但",   "然后", "如果", "虽然", "而且", "并且",
    "或者", "吗",   "呢",   "吧",   "啊",   "呀",   "哦",   "嗯",   "么",
    "得",   "地",   "所",   "自己", "什么", "怎么", "哪",   "哪里", "这里",
    "那里", "此",   "每",   "各",   "等",   "等等", "已",   "已经", "曾",
    "将",   "会",   "能",   "可以", "要",   "该",   "们",   "个",   "些",
    "啦",   NULL};

static const char *const de[] = {
    "aber",    "alle",    "allem",  "allen",  "aller",  "alles",   "als",
    "also",    "am",      "an",     "ander",  "andere", "anderem", "anderen",
    "anderer", "anderes", "auch",   "auf",    "aus",    "bei",     "bin",
    "bis",     "bist",    "da",     "damit",  "dann",   "das",     "dass",
    "dem",     "den",     "denn",   "der",    "des",    "dich",    "die",
    "dies",    "diese",   "diesem", "diesen", "dieser", "dieses",  "dir",
    "doch",    "dort",    "du",     "durch",  "ein",    "eine",    "einem",
    "einen",   "einer",   "eines",  "er",     "es",     "etwas",   "euch",
    "euer",    "eure",    "für",    "gegen",  "hat",    "hatte",   "hatten",
    "hier",    "hin",     "hinter", "ich",    "ihm",    "ihn",     "ihnen",
    "ihr",     "ihre",    "ihrem",  "ihren",  "ihrer",  "im",      "in",
    "ins",     "ist",     "ja",     "jede",   "jedem",  "jeden",   "jeder",
    "jetzt",   "kann",    "man",    "mein",   "meine",  "meinem",  "meinen",
    "meiner",  "mich",    "mir",    "mit",    "muss",   "nach",    "nun",
    "ob",      "oder",    "ohne",   "sehr",   "sein",   "seine",   "seinem",
    "seinen",  "seiner",  "selbst", "sich",   "sie",    "sind",    "so",
    "solche",  "sondern", "um",     "und",    "uns",    "unser",   "unsere",
    "unter",   "vom",     "von",    "vor",    "war",    "waren",   "was",
    "weil",    "wenn",    "wer",    "werde",  "werden", "wie",     "wieder",
    "will",    "wir",     "wird",   "wo",     "zu",     "zum",     "zur",
    "über",    NULL};

static const char *const fr[] = {
    "à",     "au",      "aux",   "avec", "ce",   "ces",    "cet",   "cette",
    "d",     "dans",    "de",    "des",  "du",   "elle",   "elles", "en",
    "est",   "et",      "été",   "eu",   "il",   "ils",    "j",     "je",
    "l",     "la",      "le",    "les",  "leur", "leurs",  "lui",   "m",
    "ma",    "mais",    "me",    "même", "mes",  "moi",    "mon",   "n",
    "ne",    "nos",     "notre", "nous", "on",   "ont",    "ou",    "où",
    "par",   "pour",    "qu",    "que",  "qui",  "s",      "sa",    "se",
    "ses",   "si",      "son",   "sont", "sur",  "t",      "ta",    "te",
    "tes",   "toi",     "ton",   "tu",   "un",   "une",    "vos",   "votre",
    "vous",  "y",       "c",     "ai",   "as",   "avait",  "avez",  "avons",
    "était", "étaient", "être",  "fait", "sera", "serait", "suis",  "sommes",
    "êtes",  "ceci",    "cela",  "ça",   "dont", "car",    "donc",  "or",
    "ni",    "comme",   NULL};

static const char *const es[] = {
    "a",        "al",    "algo",     "algunas", "algunos", "ante",  "antes",
    "como",     "con",   "contra",   "cual",    "cuando",  "de",    "del",
    "desde",    "donde", "durante",  "e",       "el",      "él",    "ella",
    "ellas",    "ellos", "en",       "entre",   "era",     "eran",  "es",
    "esa",      "esas",  "ese",      "eso",     "esos",    "esta",  "está",
    "están",    "estas", "este",     "esto",    "estos",   "fue",   "fueron",
    "ha",       "han",   "hasta",    "hay",     "la",      "las",   "le",
    "les",      "lo",    "los",      "me",      "mi",      "mis",   "mí",
    "muy",      "nos",   "nosotros", "o",       "os",      "otra",  "otro",
    "para",     "pero",  "poco",     "por",     "porque",  "que",   "qué",
    "quien",    "se",    "sea",      "ser",     "si",      "sí",    "sin",
    "sobre",    "son",   "su",       "sus",     "también", "te",    "tiene",
    "tu",       "tus",   "tú",       "un",      "una",     "uno",   "unos",
    "vosotros", "y",     "ya",       "yo",      "he",      "hemos", "soy",
    "somos",    "estoy", NULL};

static const char *const pt[] = {
    "a",    "à",      "ao",     "aos",  "as",    "às",     "até",   "com",
    "como", "da",     "das",    "de",   "dela",  "dele",   "deles", "depois",
    "do",   "dos",    "e",      "é",    "ela",   "elas",   "ele",   "eles",
    "em",   "entre",  "era",    "essa", "essas", "esse",   "esses", "esta",
    "está", "estão",  "estas",  "este", "estes", "eu",     "foi",   "foram",
    "há",   "isso",   "isto",   "já",   "lhe",   "lhes",   "mais",  "mas",
    "me",   "mesmo",  "meu",    "meus", "minha", "minhas", "muito", "na",
    "nas",  "nem",    "no",     "nos",  "nós",   "num",    "numa",  "o",
    "os",   "ou",     "para",   "pela", "pelas", "pelo",   "pelos", "por",
    "qual", "quando", "que",    "quem", "se",    "seu",    "seus",  "sua",
    "suas", "são",    "também", "te",   "tem",   "têm",    "teu",   "tua",
    "um",   "uma",    "umas",   "uns",  "você",  "vocês",  "vos",   "ser",
    "sou",  "somos",  NULL};

static const char *const *const lists[LIFT_LANG_COUNT] = {en, zh, de,
                                                          fr, es, pt};

const char *const *lift_stopwords(enum lift_lang lang, size_t *n)
{
    const char *const *l = (unsigned)lang < LIFT_LANG_COUNT ? lists[lang] : en;
    size_t k = 0;
    while (l[k])
        k++;
    *n = k;
    return l;
}
